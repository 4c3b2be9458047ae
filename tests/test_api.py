"""The JSON/GeoJSON API and the map page's serving (FastAPI TestClient).

The reports and events below are hand-written for these tests. `make_store`
is reused by tests/test_browser.py.
"""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kharita.api import (
    CONTEXT_ONLY_FIELDS,
    build_snippet,
    create_app,
    evidence_snippets,
)
from kharita.models import ACLED_COLUMNS, Claim, Event, Report, Span
from kharita.store import Store

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
    report_ids=[IDLIB.id],
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
    admin1="Idlib", location="Saraqib", report_ids=[IDLIB.id],
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
def client(tmp_path):
    store = make_store(tmp_path / "t.db")
    with TestClient(create_app(store)) as c:
        yield c
    store.close()


def ids(resp) -> list[str]:
    assert resp.status_code == 200, resp.text
    return [e["event_id_cnty"] for e in resp.json()]


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

def test_events_lists_all_as_event_json(client):
    resp = client.get("/api/events")
    assert resp.headers["content-type"].startswith("application/json")
    assert ids(resp) == ["SYR9001", "SYR9002", "SYR9003"]
    first = resp.json()[0]
    assert Event.model_validate(first) == BARREL_BOMB
    assert first["event_date"] == "2024-03-04" and first["evidence"]["actor1"][0]["text"] == "Syrian government helicopters"


@pytest.mark.parametrize("query, expected", [
    ("date_from=2024-03-05", ["SYR9003"]),
    ("date_to=2024-03-04", ["SYR9001", "SYR9002"]),
    ("date_from=2024-03-04&date_to=2024-03-04", ["SYR9001", "SYR9002"]),
    ("type=battles", ["SYR9002"]),
    ("type=Air/drone strike", ["SYR9001"]),
    ("type=Protests", []),
    ("place=aleppo", ["SYR9003"]),
    ("place=idlib", ["SYR9001", "SYR9002"]),
    ("place=syria", ["SYR9001", "SYR9002", "SYR9003"]),
    ("actor=tahrir", ["SYR9002"]),
    ("actor=Military Forces", ["SYR9001", "SYR9002"]),
    ("actor=tahrir&place=aleppo", []),
    ("limit=2", ["SYR9001", "SYR9002"]),
    ("limit=2&offset=2", ["SYR9003"]),
    ("type=&place=", ["SYR9001", "SYR9002", "SYR9003"]),
])
def test_event_filters(client, query, expected):
    assert ids(client.get(f"/api/events?{query}")) == expected


@pytest.mark.parametrize("query, needle", [
    ("date_from=2024-13-01", "date_from must be a calendar date written YYYY-MM-DD"),
    ("date_to=2024-02-30", "date_to must be a calendar date written YYYY-MM-DD"),
    ("date_from=yesterday", "'yesterday'"),
    ("date_from=20240301", "YYYY-MM-DD"),
    ("date_from=2024-03-06&date_to=2024-03-01", "after date_to"),
    ("limit=5001", "less than or equal to 5000"),
    ("limit=0", "greater than or equal to 1"),
    ("offset=-1", "greater than or equal to 0"),
    ("limit=many", "integer"),
])
def test_bad_parameters_are_422_json(client, query, needle):
    for path in ("/api/events", "/api/events.geojson"):
        resp = client.get(f"{path}?{query}")
        assert resp.status_code == 422, resp.text
        assert resp.headers["content-type"].startswith("application/json")
        detail = resp.json()["detail"]
        assert isinstance(detail, list) and detail[0]["loc"][0] == "query"
        assert needle in detail[0]["msg"]


def test_limit_max_is_accepted(client):
    assert len(ids(client.get("/api/events?limit=5000"))) == 3


# -- /api/events.geojson -----------------------------------------------------

def test_geojson_feature_collection(client):
    resp = client.get("/api/events.geojson")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/geo+json")
    fc = resp.json()
    assert fc["type"] == "FeatureCollection"
    assert fc["meta"] == {"matched": 3, "mapped": 2, "unlocated": 1, "limit": 500, "offset": 0}
    assert [f["id"] for f in fc["features"]] == ["SYR9001", "SYR9003"]  # SYR9002 has no coordinates
    for feature, event in zip(fc["features"], LOCATED):
        assert feature["type"] == "Feature"
        assert feature["geometry"] == {"type": "Point", "coordinates": [event.longitude, event.latitude]}
        props = feature["properties"]
        assert set(ACLED_COLUMNS) | {"event_id", "weapons", "claims", "evidence_snippets"} <= set(props)
        assert props["event_id"] == event.event_id_cnty
        assert {k: props[k] for k in ACLED_COLUMNS} == event.model_dump(mode="json", include=set(ACLED_COLUMNS))
        assert props["weapons"] == event.weapons
        assert props["claims"] == [c.model_dump(mode="json") for c in event.claims]


def test_geojson_snippet_highlights_equal_the_span_texts(client):
    features = {f["id"]: f for f in client.get("/api/events.geojson").json()["features"]}
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


def test_geojson_applies_filters(client):
    fc = client.get("/api/events.geojson?place=aleppo").json()
    assert [f["id"] for f in fc["features"]] == ["SYR9003"]
    fc = client.get("/api/events.geojson?type=Battles").json()
    assert fc["features"] == [] and fc["meta"]["unlocated"] == 1
    fc = client.get("/api/events.geojson?limit=1&offset=1").json()
    assert fc["features"] == [] and fc["meta"]["matched"] == 1


def test_report_markup_comes_back_as_plain_json_text(client):
    snippet = client.get("/api/events.geojson?place=aleppo").json()["features"][0]["properties"]["evidence_snippets"][0]
    assert SCRIPT in snippet["text"] and IMG in snippet["text"]
    assert snippet["url"] == "javascript:alert(1)"  # returned as data; the page only links http(s)
    resp = client.get(f"/api/reports/{ALEPPO.id}")
    assert resp.headers["content-type"].startswith("application/json")
    assert resp.json()["text"] == ALEPPO_TEXT
    assert resp.json()["title"] == "Aid workers <b>killed</b> in Aleppo"


# -- single records, errors --------------------------------------------------

def test_event_by_id(client):
    resp = client.get("/api/events/SYR9003")
    assert resp.status_code == 200
    assert Event.model_validate(resp.json()) == SHOOTING


def test_report_by_id(client):
    resp = client.get(f"/api/reports/{IDLIB.id}")
    assert resp.status_code == 200
    assert Report.model_validate(resp.json()) == IDLIB


@pytest.mark.parametrize("path", ["/api/events/NOPE1", f"/api/reports/{'0' * 16}", "/api/nothing", "/static/nope.js"])
def test_unknown_is_json_404(client, path):
    resp = client.get(path)
    assert resp.status_code == 404
    assert resp.headers["content-type"].startswith("application/json")
    assert resp.json()["detail"]


def test_stats(client):
    assert client.get("/api/stats").json() == {"reports": 2, "events": 3}


def test_no_cors_by_default(client):
    resp = client.get("/api/events", headers={"Origin": "https://elsewhere.example"})
    assert resp.status_code == 200
    assert not any(h.lower().startswith("access-control-") for h in resp.headers)
    pre = client.options("/api/events", headers={
        "Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in pre.headers


def test_read_only(client):
    assert client.post("/api/events", json={}).status_code == 405
    assert client.delete("/api/events/SYR9001").status_code == 405


def test_openapi_describes_the_api(client):
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "Kharita" and spec["info"]["version"]
    assert spec["info"]["description"]
    assert {"/api/events", "/api/events.geojson", "/api/events/{event_id}", "/api/reports/{report_id}"} <= set(spec["paths"])
    params = {p["name"] for p in spec["paths"]["/api/events"]["get"]["parameters"]}
    assert params == {"date_from", "date_to", "type", "place", "actor", "limit", "offset"}
    schemas = spec["components"]["schemas"]
    assert {"Event", "FeatureCollection", "EventProperties", "Snippet"} <= set(schemas)
    assert "evidence_snippets" in schemas["EventProperties"]["properties"]


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


def test_page_script_never_parses_html():
    static = Path(__file__).resolve().parents[1] / "src" / "kharita" / "web" / "static"
    code = (static / "app.js").read_text(encoding="utf-8")
    code = re.sub(r"/\*.*?\*/", "", code, flags=re.S)  # the header comment names innerHTML
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in code, sink
    assert "bindPopup(function" in code  # popups get DOM elements, never HTML strings


def test_server_errors_are_json(tmp_path):
    store = make_store(tmp_path / "t.db")

    def broken(_flt=None):
        raise RuntimeError("disk on fire")

    store.events = broken
    with TestClient(create_app(store), raise_server_exceptions=False) as c:
        resp = c.get("/api/events")
    assert resp.status_code == 500
    assert resp.json() == {"detail": "internal server error"}  # no internals leaked
    store.close()
