"""The HTTP API, by example (FastAPI TestClient): what each endpoint answers, and the
RFC 9457 problem every bad request gets instead.

The reports and events below are hand-written for these tests. `make_store`
is reused by tests/test_browser.py.
"""
from __future__ import annotations

import asyncio
import csv
import io
import re
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from kharita.api import (
    CONTEXT_ONLY_FIELDS,
    STATIC_DIR,
    ApiSettings,
    EventSummary,
    build_snippet,
    create_app,
    evidence_snippets,
    read_token_file,
    settings_from_env,
)
from kharita.control import ControlClaim
from kharita.models import ACLED_COLUMNS, Claim, Event, HealthAttack, Report, Span
from kharita.store import SUMMARY_EXCLUDE, Store

IDLIB_TEXT = (
    "Syrian government helicopters dropped a barrel bomb on Ariha on Monday, March 4, "
    "killing three civilians, local activists said. The strike hit a market near the town centre.\n"
    "In a separate incident, clashes broke out between HTS fighters and government forces "
    "near Saraqib. No casualties were reported."
)
SCRIPT = "<script>window.__pwned = true</script>"
IMG = "<img src=x onerror=window.__pwned=1>"
ALEPPO_TEXT = (
    "Gunmen shot dead two aid workers in Aleppo on March 6, according to a post that read \""
    + SCRIPT + IMG + "\" before it was deleted. Their organisation suspended its work."
)

IDLIB = Report.create(IDLIB_TEXT, title="Barrel bomb hits Ariha market", outlet="Test Wire",
                      url="https://example.org/ariha", published=date(2024, 3, 5))
ALEPPO = Report.create(ALEPPO_TEXT, title="Aid workers <b>killed</b> in Aleppo", outlet="Test Wire",
                       url="javascript:alert(1)", published=date(2024, 3, 7))


def span(report: Report, phrase: str, nth: int = 0) -> Span:
    """The span of the nth occurrence of `phrase` in the report."""
    start = -1
    for _ in range(nth + 1):
        start = report.text.index(phrase, start + 1)
    return report.span(start, start + len(phrase))


def _event(**fields) -> Event:
    base = dict(disorder_type="Political violence", country="Syria", iso=760, region="Middle East",
                source="Test Wire", source_scale="International")
    base.update(fields)
    base.setdefault("year", base["event_date"].year)
    return Event(**base)


BARREL_BOMB = _event(
    event_id_cnty="SYR9001", event_date=date(2024, 3, 4), time_precision=1,
    event_type="Explosions/Remote violence", sub_event_type="Air/drone strike",
    actor1="Military Forces of Syria (2000-)", inter1=1, actor2="Civilians (Syria)", inter2=7,
    civilian_targeting="Civilian targeting", admin1="Idlib", location="Ariha",
    latitude=35.8128, longitude=36.6089, geo_precision=1, fatalities=3, weapons=["barrel bomb"],
    side1="government", report_ids=[IDLIB.id],
    claims=[Claim(kind="fatalities", value=3, victims="civilians", source="local activists",
                  evidence=[span(IDLIB, "killing three civilians")])],
    evidence={
        "actor1": [span(IDLIB, "Syrian government helicopters")],
        "sub_event_type": [span(IDLIB, "dropped a barrel bomb")],
        "weapons": [span(IDLIB, "barrel bomb")],
        "location": [span(IDLIB, "Ariha")],
        "event_date": [span(IDLIB, "Monday, March 4")],
        "fatalities": [span(IDLIB, "killing three civilians")],
        "actor2": [span(IDLIB, "civilians")],
        "notes": [span(IDLIB, "hit a market")],
    },
)
CLASH = _event(  # no coordinates: listed by /api/events, skipped by the GeoJSON
    event_id_cnty="SYR9002", event_date=date(2024, 3, 4), time_precision=2,
    event_type="Battles", sub_event_type="Armed clash",
    actor1="Hayat Tahrir al-Sham", inter1=2, actor2="Military Forces of Syria (2000-)", inter2=1,
    admin1="Idlib", location="Saraqib", report_ids=[IDLIB.id], side1="opposition", side2="government",
    evidence={
        "sub_event_type": [span(IDLIB, "clashes")],
        "actor1": [span(IDLIB, "HTS fighters")],
        "actor2": [span(IDLIB, "government forces")],
        "location": [span(IDLIB, "Saraqib")],
    },
)
SHOOTING = _event(
    event_id_cnty="SYR9003", event_date=date(2024, 3, 6), time_precision=1,
    event_type="Violence against civilians", sub_event_type="Attack",
    actor1="Unidentified Armed Group (Syria)", inter1=3, actor2="Aid Workers (Syria)", inter2=7,
    civilian_targeting="Civilian targeting", admin1="Aleppo", location="Aleppo",
    latitude=36.2021, longitude=37.1343, geo_precision=1, fatalities=2, report_ids=[ALEPPO.id],
    evidence={
        "actor1": [span(ALEPPO, "Gunmen")],
        "sub_event_type": [span(ALEPPO, "shot dead")],
        "fatalities": [span(ALEPPO, "shot dead two aid workers")],
        "location": [span(ALEPPO, "Aleppo")],
    },
)
EVENTS = [BARREL_BOMB, CLASH, SHOOTING]
LOCATED = [e for e in EVENTS if e.latitude is not None]


def make_store(path: Path) -> Store:
    store = Store(path)
    store.add(IDLIB, [BARREL_BOMB, CLASH])
    store.add(ALEPPO, [SHOOTING])
    return store


@pytest.fixture()
def store(tmp_path):
    store = make_store(tmp_path / "t.db")
    yield store
    store.close()


@pytest.fixture()
def client(store):
    """A client of a server without an API token: read-only."""
    with TestClient(create_app(store)) as c:
        yield c


# -- snippets ----------------------------------------------------------------

def test_snippet_is_the_enclosing_sentence_with_relative_highlights():
    text = "First sentence here. Troops shelled Kafr Nabl on Friday! Third one.\nA new line."
    spans = [("actor1", Report(id="r", text=text).span(21, 27)),  # Troops
             ("location", Report(id="r", text=text).span(36, 45))]  # Kafr Nabl
    snippet = build_snippet(text, spans, "r")
    assert snippet.text == "Troops shelled Kafr Nabl on Friday!"
    assert [(snippet.text[s:e], f) for s, e, f in snippet.highlights] == [
        ("Troops", "actor1"), ("Kafr Nabl", "location")]


def test_snippet_merges_adjacent_sentences_and_joins_distant_ones():
    text = "One. Two killed. Three. Four.\nFive wounded. Six."
    rep = Report(id="r", text=text)
    s = build_snippet(text, [("a", span(rep, "killed")), ("b", span(rep, "Three")),
                             ("c", span(rep, "wounded"))], "r")
    assert s.text == "Two killed. Three. … Five wounded."
    assert [s.text[a:b] for a, b, _ in s.highlights] == ["killed", "Three", "wounded"]


def test_snippet_nested_spans_newline_boundary_and_moved_offsets():
    rep = IDLIB
    s = build_snippet(rep.text, [
        ("sub_event_type", span(rep, "dropped a barrel bomb")),
        ("weapons", span(rep, "barrel bomb")),
        # stale offsets: found again by its text
        ("location", Span(report_id=rep.id, start=0, end=7, text="Saraqib")),
        ("ghost", Span(report_id=rep.id, start=0, end=5, text="Hama!")),  # not in the text: dropped
    ], rep.id)
    assert s.text.startswith("Syrian government helicopters dropped")
    assert s.text.endswith("In a separate incident, clashes broke out between HTS fighters and "
                           "government forces near Saraqib.")
    assert " … " in s.text and "\n" not in s.text  # the newline ends a sentence
    got = [(s.text[a:b], f) for a, b, f in s.highlights]
    assert got == [("dropped a barrel bomb", "sub_event_type"), ("barrel bomb", "weapons"),
                   ("Saraqib", "location")]
    assert build_snippet(rep.text, [("ghost", Span(report_id="r", start=0, end=1, text="zz"))], "r") is None


def test_snippet_of_unpunctuated_text_is_clipped():
    text = "word " * 500 + "blast " + "word " * 500
    start = text.index("blast")
    s = build_snippet(text, [("x", Report(id="r", text=text).span(start, start + 5))], "r", max_context=50)
    assert s.text.startswith("…") and s.text.endswith("…") and len(s.text) < 120
    (a, b, _), = s.highlights
    assert s.text[a:b] == "blast"


def test_evidence_snippets_one_per_cited_report():
    snippets = evidence_snippets(BARREL_BOMB, {IDLIB.id: IDLIB}.get)
    assert [s.report_id for s in snippets] == [IDLIB.id]
    assert snippets[0].title == IDLIB.title and snippets[0].outlet == "Test Wire"
    assert evidence_snippets(BARREL_BOMB, lambda _id: None) == []


# -- /api/events -------------------------------------------------------------


# -- helpers -----------------------------------------------------------------

TOKEN = "test-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def ids(resp) -> list[str]:
    assert resp.status_code == 200, resp.text
    return [e["event_id_cnty"] for e in resp.json()["items"]]


def problem(resp, status: int) -> dict:
    """The response is an RFC 9457 problem with this status; its body."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    body = resp.json()
    assert body["type"] == "about:blank" and body["status"] == status and body["title"] and body["detail"]
    return body


@pytest.fixture()
def writer(store):
    """A client of a server with an API token."""
    with TestClient(create_app(store, ApiSettings(token=TOKEN))) as c:
        yield c


# -- /api/events -------------------------------------------------------------

def test_events_page_of_event_summaries(client):
    resp = client.get("/api/events")
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert set(body) == {"items", "next_cursor"} and body["next_cursor"] is None
    assert ids(resp) == ["SYR9001", "SYR9002", "SYR9003"]
    # Every field but the evidence spans, of the event and of its claims.
    for item, event in zip(body["items"], EVENTS):
        assert item == event.model_dump(mode="json", exclude=SUMMARY_EXCLUDE)
        assert "evidence" not in item and all("evidence" not in c for c in item["claims"])
        EventSummary.model_validate(item)
    first = body["items"][0]
    assert first["event_date"] == "2024-03-04" and first["actor1"] == "Military Forces of Syria (2000-)"
    assert first["claims"] == [{"kind": "fatalities", "value": 3, "victims": "civilians",
                                "source": "local activists", "approximate": False}]


@pytest.mark.parametrize("flag", ["true", "1", "yes"])
def test_events_page_with_evidence_is_of_whole_events(client, flag):
    body = client.get(f"/api/events?evidence={flag}").json()
    assert [Event.model_validate(item) for item in body["items"]] == EVENTS
    first = body["items"][0]
    assert first["evidence"]["actor1"][0]["text"] == "Syrian government helicopters"
    assert first["claims"][0]["evidence"][0]["text"] == "killing three civilians"
    assert "evidence" not in client.get("/api/events?evidence=false").json()["items"][0]


def test_a_cursor_pages_on_with_or_without_evidence(client):
    first = client.get("/api/events?limit=2").json()
    rest = client.get("/api/events", params={"limit": 2, "evidence": "true", "cursor": first["next_cursor"]}).json()
    assert [e["event_id_cnty"] for e in first["items"] + rest["items"]] == ["SYR9001", "SYR9002", "SYR9003"]
    assert "evidence" in rest["items"][0] and rest["next_cursor"] is None


def test_bad_evidence_flag_is_422(client):
    for path in ("/api/events", "/api/events.geojson"):
        body = problem(client.get(f"{path}?evidence=maybe"), 422)
        assert body["errors"][0]["loc"] == ["query", "evidence"]


@pytest.mark.parametrize("query, expected", [
    ("date_from=2024-03-05", ["SYR9003"]),
    ("date_to=2024-03-04", ["SYR9001", "SYR9002"]),
    ("date_from=2024-03-04&date_to=2024-03-04", ["SYR9001", "SYR9002"]),
    ("event_type=battles", ["SYR9002"]),
    ("event_type=Protests", []),
    ("sub_event_type=Air/drone strike", ["SYR9001"]),
    ("sub_event_type=armed clash", ["SYR9002"]),
    ("actor=tahrir", ["SYR9002"]),
    ("actor=Military Forces", ["SYR9001", "SYR9002"]),
    ("side=government", ["SYR9001", "SYR9002"]),  # actor1's or actor2's side
    ("side=opposition", ["SYR9002"]),
    ("country=syria", ["SYR9001", "SYR9002", "SYR9003"]),
    ("admin1=Aleppo", ["SYR9003"]),
    ("q=saraqib", ["SYR9002"]),
    ("q=aid workers", ["SYR9003"]),  # actors are searched too
    ("fatalities_min=3", ["SYR9001"]),
    ("fatalities_max=2", ["SYR9002", "SYR9003"]),
    ("fatalities_min=1&fatalities_max=2", ["SYR9003"]),
    ("bbox=36,35,38,37", ["SYR9001", "SYR9003"]),
    ("bbox=37,36,38,37", ["SYR9003"]),
    ("bbox=170,-10,-170,10", []),  # across the antimeridian
    ("lat=35.9&lon=36.6&radius_km=20", ["SYR9001"]),
    ("lat=35.9&lon=36.6&radius_km=200", ["SYR9001", "SYR9003"]),
    ("type=Air/drone strike", ["SYR9001"]),  # the map's older names still work
    ("place=aleppo", ["SYR9003"]),
    ("actor=tahrir&admin1=aleppo", []),
    ("event_type=&actor=&q=", ["SYR9001", "SYR9002", "SYR9003"]),  # empty means no filter
    ("unknown_parameter=1", ["SYR9001", "SYR9002", "SYR9003"]),
])
def test_event_filters(client, query, expected):
    assert ids(client.get(f"/api/events?{query}")) == expected


@pytest.mark.parametrize("sort, expected", [
    ("event_date", ["SYR9001", "SYR9002", "SYR9003"]),
    ("-event_date", ["SYR9003", "SYR9002", "SYR9001"]),
    ("fatalities", ["SYR9002", "SYR9003", "SYR9001"]),
    ("-fatalities", ["SYR9001", "SYR9003", "SYR9002"]),
])
def test_sort_orders(client, sort, expected):
    assert ids(client.get(f"/api/events?sort={sort}")) == expected


@pytest.mark.parametrize("sort", ["event_date", "-fatalities"])
def test_cursor_walks_every_event_once(client, sort):
    seen, cursor = [], None
    for _ in range(10):
        params = {"limit": 2, "sort": sort} | ({"cursor": cursor} if cursor else {})
        body = client.get("/api/events", params=params).json()
        seen += [e["event_id_cnty"] for e in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == ids(client.get(f"/api/events?sort={sort}"))


def test_limit_max_is_accepted(client):
    assert len(ids(client.get("/api/events?limit=5000"))) == 3


BAD_QUERIES = [
    ("date_from=2024-13-01", "date_from must be a calendar date written YYYY-MM-DD"),
    ("date_to=2024-02-30", "date_to must be a calendar date written YYYY-MM-DD"),
    ("date_from=yesterday", "'yesterday'"),
    ("date_from=20240301", "YYYY-MM-DD"),
    ("date_from=2024-03-06&date_to=2024-03-01", "after date_to"),
    ("limit=5001", "less than or equal to 5000"),
    ("limit=0", "greater than or equal to 1"),
    ("limit=99999999999999999999999", "less than or equal to 5000"),
    ("limit=many", "integer"),
    ("bbox=1,2,3", "four numbers"),
    ("bbox=1,2,3,4,5", "four numbers"),
    ("bbox=a,b,c,d", "four numbers"),
    ("bbox=1e1,0,20,10", "written like -12.5"),
    ("bbox=0,0,nan,1", "four numbers"),
    ("bbox=-181,0,10,10", "longitudes"),
    ("bbox=0,-91,10,10", "latitudes"),
    ("bbox=0,10,10,5", "min_lat (10) is greater than max_lat (5)"),
    ("lat=35&lon=36", "give all three"),
    ("lat=95&lon=36&radius_km=5", "less than or equal to 90"),
    ("lat=35&lon=36&radius_km=0", "greater than 0"),
    ("lat=35&lon=36&radius_km=inf", "finite"),
    ("fatalities_min=-1", "greater than or equal to 0"),
    ("fatalities_min=5&fatalities_max=2", "more than fatalities_max"),
    ("fatalities_max=99999999999", "less than or equal to"),
    ("sort=name", "'event_date', '-event_date', 'fatalities' or '-fatalities'"),
    ("actor=" + "x" * 201, "at most 200 characters"),
    ("q=a%00b", "should match pattern"),
]


@pytest.mark.parametrize("query, needle", BAD_QUERIES)
def test_bad_parameters_are_422_problems(client, query, needle):
    for path in ("/api/events", "/api/events.geojson"):
        body = problem(client.get(f"{path}?{query}"), 422)
        assert body["errors"][0]["loc"][0] == "query"
        assert needle in body["errors"][0]["msg"], body
        assert needle in body["detail"] or len(needle) > 40


@pytest.mark.parametrize("cursor", ["garbage", "eyJ4IjoxfQ", "W10", "_" * 50])
def test_bad_cursor_is_400(client, cursor):
    body = problem(client.get("/api/events", params={"cursor": cursor}), 400)
    assert "cursor" in body["detail"]


def test_cursor_of_another_sort_is_400(client):
    cursor = client.get("/api/events?limit=1").json()["next_cursor"]
    assert cursor
    problem(client.get("/api/events", params={"cursor": cursor, "sort": "-fatalities", "limit": 1}), 400)


@pytest.mark.parametrize("injection", [
    "' OR '1'='1", "x'; DROP TABLE events; --", "%' UNION SELECT record FROM events --", "\\", "%", "_",
])
def test_sql_in_query_strings_is_only_text(client, injection):
    for name in ("actor", "q", "country", "admin1", "side", "event_type", "sub_event_type"):
        assert ids(client.get("/api/events", params={name: injection})) == []
    assert client.get("/api/stats").json() == {"reports": 2, "events": 3}


# -- /api/events.geojson -----------------------------------------------------

@pytest.mark.parametrize("evidence", [False, True])
def test_geojson_feature_collection(client, evidence):
    resp = client.get("/api/events.geojson", params={"evidence": "true"} if evidence else {})
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/geo+json")
    fc = resp.json()
    assert fc["type"] == "FeatureCollection" and fc["next_cursor"] is None
    assert fc["meta"] == {"matched": 3, "mapped": 2, "unlocated": 1, "limit": 500}
    assert [f["id"] for f in fc["features"]] == ["SYR9001", "SYR9003"]  # SYR9002 has no coordinates
    for feature, event in zip(fc["features"], LOCATED):
        assert feature["type"] == "Feature"
        assert feature["geometry"] == {"type": "Point", "coordinates": [event.longitude, event.latitude]}
        props = feature["properties"]
        assert set(ACLED_COLUMNS) | {"event_id", "weapons", "injuries", "confidence", "report_ids",
                                     "claims"} <= set(props)
        assert ("evidence_snippets" in props) is evidence
        assert props["event_id"] == event.event_id_cnty
        assert {k: props[k] for k in ACLED_COLUMNS} == event.model_dump(mode="json", include=set(ACLED_COLUMNS))
        assert props["weapons"] == event.weapons and props["report_ids"] == event.report_ids
        assert props["confidence"] == event.confidence and props["injuries"] == event.injuries
        claims = [c.model_dump(mode="json", exclude=set() if evidence else {"evidence"}) for c in event.claims]
        assert props["claims"] == claims


def test_geojson_without_evidence_is_the_full_page_less_its_evidence(client):
    full = client.get("/api/events.geojson?evidence=true").json()
    for feature in full["features"]:
        del feature["properties"]["evidence_snippets"]
        for claim in feature["properties"]["claims"]:
            del claim["evidence"]
    assert client.get("/api/events.geojson").json() == full


def test_geojson_snippet_highlights_equal_the_span_texts(client):
    features = {f["id"]: f for f in client.get("/api/events.geojson?evidence=true").json()["features"]}
    for event in LOCATED:
        snippets = features[event.event_id_cnty]["properties"]["evidence_snippets"]
        assert [s["report_id"] for s in snippets] == event.report_ids
        got = sorted((s["text"][a:b], field) for s in snippets for a, b, field in s["highlights"])
        want = sorted((sp.text, field) for field, spans in event.evidence.items() for sp in spans
                      if field not in CONTEXT_ONLY_FIELDS)  # notes frame the snippet, unhighlighted
        assert got == want
    bomb = features["SYR9001"]["properties"]["evidence_snippets"][0]
    # The first sentence (with all the spans but `notes`) and the next, adjacent one, merged;
    # the second paragraph is not cited.
    assert bomb["text"] == IDLIB_TEXT.split("\n")[0]
    assert bomb["title"] == IDLIB.title and bomb["published"] == "2024-03-05"


def test_geojson_applies_filters_and_pages(client):
    fc = client.get("/api/events.geojson?admin1=aleppo").json()
    assert [f["id"] for f in fc["features"]] == ["SYR9003"]
    fc = client.get("/api/events.geojson?event_type=Battles").json()
    assert fc["features"] == [] and fc["meta"]["unlocated"] == 1
    first = client.get("/api/events.geojson?limit=1").json()
    assert [f["id"] for f in first["features"]] == ["SYR9001"] and first["next_cursor"]
    second = client.get("/api/events.geojson", params={"limit": 1, "cursor": first["next_cursor"]}).json()
    assert second["features"] == [] and second["meta"]["unlocated"] == 1  # SYR9002: no coordinates


def test_report_markup_comes_back_as_plain_json_text(client):
    fc = client.get("/api/events.geojson?admin1=aleppo&evidence=true").json()
    snippet = fc["features"][0]["properties"]["evidence_snippets"][0]
    assert SCRIPT in snippet["text"] and IMG in snippet["text"]
    assert snippet["url"] == "javascript:alert(1)"  # returned as data; the page only links http(s)
    resp = client.get(f"/api/reports/{ALEPPO.id}")
    assert resp.headers["content-type"].startswith("application/json")
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert resp.json()["text"] == ALEPPO_TEXT
    assert resp.json()["title"] == "Aid workers <b>killed</b> in Aleppo"


# -- single records ----------------------------------------------------------

def test_event_by_id_with_evidence_snippets_and_claims(client):
    resp = client.get("/api/events/SYR9001")
    assert resp.status_code == 200
    body = resp.json()
    assert Event.model_validate(body) == BARREL_BOMB
    assert body["claims"][0]["source"] == "local activists"
    (snippet,) = body["evidence_snippets"]
    assert snippet["report_id"] == IDLIB.id and "barrel bomb" in snippet["text"]


def test_event_mentions_say_why_they_merged(client):
    mentions = client.get("/api/events/SYR9003/mentions").json()
    assert [(m["report_id"], m["reason"]) for m in mentions] == [(ALEPPO.id, "started this event")]
    assert Event.model_validate(mentions[0]["event"]) == SHOOTING


def test_report_by_id_lists_its_events(client):
    resp = client.get(f"/api/reports/{IDLIB.id}")
    assert resp.status_code == 200
    assert Report.model_validate(resp.json()) == IDLIB
    assert resp.json()["event_ids"] == ["SYR9001", "SYR9002"]


@pytest.mark.parametrize("path", [
    "/api/events/NOPE1", "/api/events/NOPE1/mentions", f"/api/reports/{'0' * 16}",
    "/api/places/Atlantis/control", "/api/nothing", "/static/nope.js",
])
def test_unknown_is_404_problem(client, path):
    problem(client.get(path), 404)


def test_unprintable_ids_are_422_not_errors(client):
    problem(client.get("/api/events/SYR%00"), 422)
    problem(client.get("/api/reports/" + "x" * 201), 422)


# -- POST /api/reports -------------------------------------------------------

NEW_TEXT = ("Government warplanes struck the town of Maarat al-Numan in Idlib province on Tuesday, "
            "March 12, 2024, killing four civilians, rescuers said.")


def test_post_report_runs_the_pipeline_and_is_idempotent(writer):
    payload = {"text": NEW_TEXT, "title": "Strikes on Maarat al-Numan", "outlet": "Test Wire",
               "published": "2024-03-13"}
    first = writer.post("/api/reports", json=payload, headers=AUTH)
    assert first.status_code == 201, first.text
    created = first.json()
    assert created["created"] is True and len(created["event_ids"]) == 1
    assert first.headers["location"] == f"/api/reports/{created['report_id']}"
    event = writer.get(f"/api/events/{created['event_ids'][0]}").json()
    assert event["sub_event_type"] == "Air/drone strike" and event["fatalities"] == 4
    assert event["event_date"] == "2024-03-12"
    again = writer.post("/api/reports", json=payload, headers=AUTH)
    assert again.status_code == 200
    assert again.json() == {**created, "created": False}
    assert writer.get("/api/stats").json() == {"reports": 3, "events": 4}
    stored = writer.get(f"/api/reports/{created['report_id']}").json()
    assert stored["title"] == "Strikes on Maarat al-Numan" and stored["published"] == "2024-03-13"


def test_a_posted_reports_tallies_come_back_with_it(writer):
    text = ("Since January 1, government forces have shelled more than 20 schools across Idlib province, "
            "the education directorate said.")
    resp = writer.post("/api/reports", json={"text": text, "published": "2024-03-13"}, headers=AUTH)
    assert resp.status_code == 201 and resp.json()["event_ids"] == []  # a running count: no event
    [tally] = writer.get(f"/api/reports/{resp.json()['report_id']}").json()["tallies"]
    assert (tally["value"], tally["unit"], tally["verb"], tally["since"]) == (20, "schools", "shelled", "2024-01-01")
    assert tally["places"] == ["Idlib"] and tally["source"] == "the education directorate"


def test_post_plain_text_report(writer):
    body = "Shelling of Taiz\n\n" + NEW_TEXT.replace("Maarat al-Numan in Idlib", "Taiz in Yemen")
    resp = writer.post("/api/reports", content=body.encode(), headers={**AUTH, "Content-Type": "text/plain"})
    assert resp.status_code == 201, resp.text
    report = writer.get(f"/api/reports/{resp.json()['report_id']}").json()
    assert report["title"] == "Shelling of Taiz"  # a short first line
    assert report["published"] == "2024-03-12" and report["published_inferred"] is True


def test_post_report_markup_is_stored_and_returned_as_json_data(writer):
    text = f"{SCRIPT} Gunmen killed two men in Aden on March 2, 2024. {IMG}"
    resp = writer.post("/api/reports", json={"text": text, "title": "<b>bold</b>"}, headers=AUTH)
    assert resp.status_code == 201
    report = writer.get(f"/api/reports/{resp.json()['report_id']}")
    assert report.headers["content-type"].startswith("application/json")
    # As `kharita ingest` reads it (a headline the body lacks may be put before it), as JSON text.
    assert report.json()["text"].endswith(text) and report.json()["title"] == "<b>bold</b>"


@pytest.mark.parametrize("headers, detail", [
    ({}, "needs an `Authorization: Bearer <token>` header"),
    ({"Authorization": "Bearer wrong-token-0123456789"}, "not valid"),
    ({"Authorization": f"Bearer {TOKEN}x"}, "not valid"),
    ({"Authorization": f"Basic {TOKEN}"}, "needs an `Authorization: Bearer"),
    ({"Authorization": "Bearer"}, "needs an `Authorization: Bearer"),
])
def test_post_without_the_token_is_401_and_changes_nothing(writer, headers, detail):
    resp = writer.post("/api/reports", json={"text": NEW_TEXT}, headers=headers)
    assert detail in problem(resp, 401)["detail"]
    assert resp.headers["www-authenticate"].startswith("Bearer")
    assert writer.get("/api/stats").json() == {"reports": 2, "events": 3}


def test_writing_is_disabled_without_a_configured_token(client):
    for headers in ({}, AUTH):
        resp = client.post("/api/reports", json={"text": NEW_TEXT}, headers=headers)
        assert "no API token configured" in problem(resp, 403)["detail"]
    assert client.get("/api/stats").json() == {"reports": 2, "events": 3}


@pytest.mark.parametrize("body, status, needle", [
    (b'{"text": "unfinished', 400, "not valid JSON"),
    (b"", 400, "not valid JSON"),
    (b"[" * 100_000, 400, "not valid JSON"),  # nesting too deep, not a stack overflow
    (b"\xff\xfe\x00", 400, "not valid JSON"),
    (b'{"title": "no text"}', 422, "body.text: Field required"),
    (b'{"text": "   "}', 422, "more than whitespace"),
    (b'{"text": 42}', 422, "body.text: Input should be a valid string"),
    (b'{"text": "a\\u0000b"}', 422, "NUL"),
    (b'{"text": "Shots.", "published": "last week"}', 422, "body.published"),
    (b'{"text": "Shots.", "published": 1700000000}', 422, "body.published"),
    (b'["text"]', 422, "body: Input should be an object"),
])
def test_bad_json_bodies(writer, body, status, needle):
    resp = writer.post("/api/reports", content=body, headers={**AUTH, "Content-Type": "application/json"})
    assert needle in problem(resp, status)["detail"]
    assert writer.get("/api/stats").json()["reports"] == 2


@pytest.mark.parametrize("body, needle", [(b"", "empty"), (b"   \n ", "whitespace"), (b"\x00\x01\x02", "binary")])
def test_bad_plain_text_bodies(writer, body, needle):
    resp = writer.post("/api/reports", content=body, headers={**AUTH, "Content-Type": "text/plain"})
    assert needle in problem(resp, 422)["detail"]


def test_other_media_types_are_415(writer):
    resp = writer.post("/api/reports", content=b"<p>x</p>", headers={**AUTH, "Content-Type": "text/html"})
    problem(resp, 415)
    problem(writer.post("/api/reports", content=b"text", headers=AUTH), 415)  # no Content-Type


def test_oversized_bodies_are_413_without_being_read(store):
    with TestClient(create_app(store, ApiSettings(token=TOKEN, max_body=1000))) as c:
        declared = c.post("/api/reports", json={"text": "x" * 2000}, headers=AUTH)
        assert "larger than the limit of 1,000 bytes" in problem(declared, 413)["detail"]
        # No Content-Length (chunked): refused too.
        chunks = (b"word " * 100 for _ in range(100))
        problem(c.post("/api/reports", content=chunks, headers={**AUTH, "Content-Type": "text/plain"}), 413)
        # Under the limit is fine.
        assert c.post("/api/reports", json={"text": NEW_TEXT}, headers=AUTH).status_code == 201
        # Before the token is even checked: a client cannot make the server read a huge body.
        problem(c.post("/api/reports", content=b"x" * 5000, headers={"Content-Type": "text/plain"}), 413)


def test_a_streamed_body_is_refused_at_the_chunk_that_crosses_the_limit(store):
    app = create_app(store, ApiSettings(token=TOKEN, max_body=1000))
    chunks_read, sent = [], []

    async def receive():  # 100 chunks of 500 bytes, no Content-Length
        chunks_read.append(len(chunks_read))
        return {"type": "http.request", "body": b"x" * 500, "more_body": len(chunks_read) < 100}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/api/reports", "raw_path": b"/api/reports", "query_string": b"", "root_path": "",
             "headers": [(b"authorization", AUTH["Authorization"].encode()), (b"content-type", b"text/plain")],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 413
    assert len(chunks_read) == 3  # 1,500 bytes read, not 50,000


def test_bad_content_length_is_400(client):
    resp = client.post("/api/reports", content=b"{}", headers={"Content-Length": "abc",
                                                               "Content-Type": "application/json"})
    problem(resp, 400)


# -- control, health care, histogram, export ---------------------------------

HOSPITAL_TEXT = ("An air strike hit the main hospital in Kafr Nabl on March 10, 2024, killing two nurses, "
                 "the health directorate said. Rebels captured the village of Hish on March 1, 2024. "
                 "Government forces recaptured Hish on March 8, 2024.")
HOSPITAL = Report.create(HOSPITAL_TEXT, title="Hospital hit", outlet="Test Wire", published=date(2024, 3, 11))
HOSPITAL_STRIKE = _event(
    event_id_cnty="SYR9004", event_date=date(2024, 3, 10), time_precision=1,
    event_type="Explosions/Remote violence", sub_event_type="Air/drone strike", admin1="Idlib",
    location="Kafr Nabl", latitude=35.6138, longitude=36.5611, geo_precision=1, fatalities=2,
    report_ids=[HOSPITAL.id], evidence={"sub_event_type": [span(HOSPITAL, "air strike")],
                                        "location": [span(HOSPITAL, "Kafr Nabl")]},
    health=HealthAttack(attack_type="heavy weapons", facility_types=["hospital"],
                        resources_affected=["facility", "personnel"], facility_damage="damaged",
                        health_workers_killed=2, evidence={"facility": [span(HOSPITAL, "main hospital")]}),
)


def _hish(side: str, day: int, phrase: str) -> ControlClaim:
    return ControlClaim(
        claim_id=f"hish-{day}", place_key="geonames:170000", place="Hish", latitude=35.55, longitude=36.64,
        country="Syria", admin1="Idlib", side=side, start=date(2024, 3, day), precision=1,
        as_of=date(2024, 3, 11), kind="event", report_id=HOSPITAL.id, evidence=[span(HOSPITAL, phrase)])


@pytest.fixture()
def full(tmp_path):
    """Events, a health-care attack and a place that changed hands twice."""
    store = make_store(tmp_path / "full.db")
    store.add(HOSPITAL, [HOSPITAL_STRIKE], [_hish("opposition", 1, "Rebels captured the village of Hish"),
                                            _hish("government", 8, "Government forces recaptured Hish")])
    with TestClient(create_app(store)) as c:
        yield c
    store.close()


def test_place_control_timeline(full):
    body = full.get("/api/places/hish/control").json()
    assert body["query"] == "hish"
    (place,) = body["places"]
    assert place["place"] == "Hish" and place["place_key"] == "geonames:170000"
    assert [(p["side"], p["start"], p["end"]) for p in place["periods"]] == [
        ("opposition", "2024-03-01", "2024-03-08"), ("government", "2024-03-08", None)]
    assert place["periods"][1]["claims"][0]["evidence"][0]["text"] == "Government forces recaptured Hish"


@pytest.mark.parametrize("day, side", [("2024-03-05", "opposition"), ("2024-03-20", "government")])
def test_control_map_of_a_day(full, day, side):
    resp = full.get(f"/api/control?date={day}")
    assert resp.headers["content-type"].startswith("application/geo+json")
    fc = resp.json()
    assert fc["type"] == "FeatureCollection" and fc["date"] == day
    (feature,) = fc["features"]
    assert feature["geometry"]["coordinates"] == [36.64, 35.55]
    assert feature["properties"]["side"] == side and feature["properties"]["reports"] == [HOSPITAL.id]


def test_control_map_before_any_claim_is_empty(full):
    assert full.get("/api/control?date=2020-01-01").json()["features"] == []


@pytest.mark.parametrize("query", ["", "?date=", "?date=March", "?date=2024-02-30"])
def test_control_map_needs_a_date(full, query):
    problem(full.get(f"/api/control{query}"), 422)


def test_health_attacks_register(full):
    body = full.get("/api/health-attacks").json()
    (row,) = body["items"]
    assert body["next_cursor"] is None
    assert row["event_id"] == "SYR9004" and row["facility_types"] == "hospital"
    assert row["health_workers_killed"] == 2 and row["attack_type"] == "heavy weapons"
    resp = full.get("/api/health-attacks?format=geojson")
    assert resp.headers["content-type"].startswith("application/geo+json")
    (feature,) = resp.json()["features"]
    assert feature["geometry"]["coordinates"] == [36.5611, 35.6138]
    assert full.get("/api/health-attacks?date_to=2024-03-09").json()["items"] == []
    problem(full.get("/api/health-attacks?format=xml"), 422)


@pytest.mark.parametrize("interval, expected", [
    ("day", [("2024-03-04", 2, 3), ("2024-03-06", 1, 2), ("2024-03-10", 1, 2)]),
    ("week", [("2024-03-04", 4, 7)]),  # Monday 4 March to Sunday 10 March
    ("month", [("2024-03-01", 4, 7)]),
])
def test_histogram(full, interval, expected):
    body = full.get(f"/api/histogram?interval={interval}").json()
    assert body["interval"] == interval
    assert [(b["period"], b["events"], b["fatalities"]) for b in body["buckets"]] == expected


def test_histogram_filters_and_bad_interval(full):
    body = full.get("/api/histogram?interval=day&admin1=idlib&fatalities_min=1").json()
    assert [(b["period"], b["events"]) for b in body["buckets"]] == [("2024-03-04", 1), ("2024-03-10", 1)]
    problem(full.get("/api/histogram?interval=year"), 422)


def test_export_acled_csv_download(full):
    resp = full.get("/api/export?format=acled-csv&admin1=Idlib")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/csv")
    assert resp.headers["content-disposition"] == 'attachment; filename="kharita-events.csv"'
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    assert list(rows[0]) == list(ACLED_COLUMNS)
    assert [r["event_id_cnty"] for r in rows] == ["SYR9001", "SYR9002", "SYR9004"]


def test_export_geojson_and_parquet(full):
    resp = full.get("/api/export?format=geojson&sort=-fatalities")
    assert resp.headers["content-disposition"] == 'attachment; filename="kharita-events.geojson"'
    assert [f["id"] for f in resp.json()["features"]] == ["SYR9001", "SYR9004", "SYR9003"]  # ties: by id, descending too
    resp = full.get("/api/export?format=parquet")
    assert resp.headers["content-type"] == "application/vnd.apache.parquet"
    table = pq.read_table(io.BytesIO(resp.content))
    assert table.column("event_id_cnty").to_pylist() == ["SYR9001", "SYR9002", "SYR9003", "SYR9004"]


def test_export_needs_a_known_format(full):
    problem(full.get("/api/export"), 422)
    problem(full.get("/api/export?format=xlsx"), 422)


def test_export_walks_every_page(full, monkeypatch):
    monkeypatch.setattr("kharita.api.EXPORT_PAGE", 1)
    rows = list(csv.DictReader(io.StringIO(full.get("/api/export?format=acled-csv").text)))
    assert len(rows) == 4


# -- the app as a whole ------------------------------------------------------

def test_stats(client):
    assert client.get("/api/stats").json() == {"reports": 2, "events": 3}


def test_no_cors_by_default(client):
    resp = client.get("/api/events", headers={"Origin": "https://elsewhere.example"})
    assert resp.status_code == 200
    assert not any(h.lower().startswith("access-control-") for h in resp.headers)
    pre = client.options("/api/events", headers={
        "Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in pre.headers


def test_cors_for_configured_origins_only(store):
    app = create_app(store, ApiSettings(cors_origins=("https://maps.example",)))
    with TestClient(app) as c:
        ok = c.get("/api/stats", headers={"Origin": "https://maps.example"})
        assert ok.headers["access-control-allow-origin"] == "https://maps.example"
        other = c.get("/api/stats", headers={"Origin": "https://elsewhere.example"})
        assert "access-control-allow-origin" not in other.headers


def test_the_map_is_offline_unless_a_tile_layer_is_configured(client, store):
    assert client.get("/api/config").json() == {"tiles": None, "tiles_attribution": ""}
    assert "img-src 'self' data:;" in client.get("/").headers["content-security-policy"]
    tiles = "https://tiles.example/{z}/{x}/{y}.png"
    with TestClient(create_app(store, ApiSettings(tiles=tiles, tiles_attribution="© Example"))) as c:
        assert c.get("/api/config").json() == {"tiles": tiles, "tiles_attribution": "© Example"}
        assert "img-src 'self' data: https://tiles.example;" in c.get("/").headers["content-security-policy"]
    with pytest.raises(ValueError, match="tile URL"):
        ApiSettings(tiles="javascript:alert(1)")


def test_wrong_methods_are_405_problems(client):
    problem(client.post("/api/events", json={}), 405)
    problem(client.delete("/api/events/SYR9001"), 405)


def test_openapi_describes_the_api(client):
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "Kharita" and spec["info"]["version"] and spec["info"]["description"]
    assert {"/api/events", "/api/events.geojson", "/api/events/{event_id}", "/api/events/{event_id}/mentions",
            "/api/reports", "/api/reports/{report_id}", "/api/places/{place}/control", "/api/control",
            "/api/health-attacks", "/api/histogram", "/api/export", "/api/stats"} <= set(spec["paths"])
    params = {p["name"] for p in spec["paths"]["/api/events"]["get"]["parameters"]}
    assert params == {"date_from", "date_to", "event_type", "sub_event_type", "actor", "side", "country", "admin1",
                      "q", "fatalities_min", "fatalities_max", "bbox", "lat", "lon", "radius_km", "sort", "limit",
                      "cursor", "type", "place", "evidence"}
    for path in ("/api/events", "/api/events.geojson"):
        (evidence,) = [p for p in spec["paths"][path]["get"]["parameters"] if p["name"] == "evidence"]
        assert evidence["schema"] == {"type": "boolean", "default": False, "title": "Evidence"}
        assert "/api/events/{event_id}" in evidence["description"]
    health = {p["name"] for p in spec["paths"]["/api/health-attacks"]["get"]["parameters"]}
    assert "evidence" not in health and "cursor" in health
    schemas = spec["components"]["schemas"]
    assert {"Event", "EventSummary", "ClaimSummary", "HealthAttackSummary", "EventList", "FeatureCollection",
            "EventProperties", "Snippet", "Problem", "ReportIn", "ReportCreated", "Histogram", "ControlMap",
            "HealthAttackRow"} <= set(schemas)
    assert "evidence" in schemas["Event"]["properties"] and "evidence" not in schemas["EventSummary"]["properties"]
    assert "evidence" not in schemas["ClaimSummary"]["properties"]
    assert schemas["EventList"]["properties"]["items"]["items"] == {"anyOf": [
        {"$ref": "#/components/schemas/EventSummary"}, {"$ref": "#/components/schemas/Event"}]}
    assert "evidence_snippets" in schemas["EventProperties"]["properties"]
    post = spec["paths"]["/api/reports"]["post"]
    assert post["security"] == [{"HTTPBearer": []}]
    assert set(post["requestBody"]["content"]) == {"application/json", "text/plain"}
    assert post["responses"]["401"]["content"] == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def test_settings_from_the_environment(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(f"  {TOKEN}\n")
    assert settings_from_env({}) == ApiSettings()
    assert settings_from_env({"KHARITA_API_TOKEN": TOKEN}).token == TOKEN
    from_file = settings_from_env({"KHARITA_API_TOKEN": "other-token-0123456789",
                                   "KHARITA_API_TOKEN_FILE": str(token_file),
                                   "KHARITA_MAX_BODY": "2048", "KHARITA_CORS_ORIGINS": "https://a.example, "})
    assert from_file == ApiSettings(token=TOKEN, max_body=2048, cors_origins=("https://a.example",))
    assert TOKEN not in repr(from_file)
    with pytest.raises(ValueError, match="at least 16 characters"):
        ApiSettings(token="short")
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(ValueError, match="is empty"):
        read_token_file(empty)


# -- the page ----------------------------------------------------------------

def test_index_and_static_files(client):
    resp = client.get("/")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in resp.headers["content-security-policy"]
    html = resp.text
    for asset in ("/static/vendor/leaflet.js", "/static/vendor/leaflet.css",
                  "/static/vendor/topojson-client.min.js", "/static/app.js", "/static/style.css"):
        assert asset in html
    assert "http://" not in html and "https://" not in html  # nothing from a CDN
    for name in ("app.js", "style.css", "index.html"):
        assert client.get(f"/static/{name}").status_code == 200


def test_the_page_is_static(client, store):
    """Nothing served as HTML interpolates stored content: the page is the same file whatever is stored."""
    before = client.get("/").text
    store.add(Report.create(f"{SCRIPT} Protesters gathered in Homs on May 1, 2024."), [])
    assert client.get("/").text == before == (STATIC_DIR / "index.html").read_text(encoding="utf-8")


def test_page_script_never_parses_html():
    code = (STATIC_DIR / "app.js").read_text(encoding="utf-8")
    code = re.sub(r"/\*.*?\*/", "", code, flags=re.DOTALL)  # the header comment names innerHTML
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in code, sink


def test_server_errors_are_problems_without_internals(tmp_path):
    store = make_store(tmp_path / "t.db")

    def broken(_flt=None, raw=False):
        raise RuntimeError("disk on fire")

    store.events_page = broken
    with TestClient(create_app(store), raise_server_exceptions=False) as c:
        resp = c.get("/api/events")
    body = problem(resp, 500)
    assert body["detail"] == "internal server error"  # no internals leaked
    store.close()
