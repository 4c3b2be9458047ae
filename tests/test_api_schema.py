"""The API against its own OpenAPI spec, with schemathesis: for requests generated from the
spec (valid ones and invalid ones), no response is a server error and every response is
one the spec describes (status, content type, headers, body schema).

The store holds the repository's `samples/` as `kharita ingest samples` stores them. The
run is bounded (a fixed number of examples per operation, derandomised so that CI runs the
same cases every time) to stay well under a minute.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from kharita.api import ApiSettings, create_app
from kharita.ingest import Rejected, read_paths
from kharita.pipeline import Pipeline
from kharita.store import Store

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
TOKEN = "schema-test-token-0123456789"
EXAMPLES_PER_OPERATION = 25


# The spec is read when the module is collected; the store is filled before the first case.
_TMP = tempfile.TemporaryDirectory(prefix="kharita-schema-")
STORE = Store(Path(_TMP.name) / "api.db")
# A small body limit, so that generated bodies meet the 413 path too.
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(STORE, ApiSettings(token=TOKEN, max_body=20_000)))


@pytest.fixture(scope="module", autouse=True)
def samples_stored():
    pipeline = Pipeline()
    for item in read_paths([str(SAMPLES)]):
        assert not isinstance(item, Rejected), item
        doc = pipeline.annotate(item)
        STORE.add(item, doc.events, doc.control)
    assert STORE.counts()["events"] > 0
    yield
    STORE.close()
    _TMP.cleanup()


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_responses_match_the_spec(case):
    # Every check but one: "schema-valid requests are accepted" cannot hold for constraints
    # between parameters that OpenAPI cannot state (date_from after date_to, lat without lon,
    # a bbox's min_lat above its max_lat); tests/test_api.py covers those one by one.
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"},
                           excluded_checks=[schemathesis.checks.positive_data_acceptance])
