"""The map page in headless Chromium (Debian's; Playwright drives it, never downloads one).

Skipped unless Chromium, the `playwright` package and the vendored front-end
files (`bash web/build.sh`) are all present. Three stores: hand-built events
(tests/test_api.py), the repo's own samples/ plus one report written here, and
the flagship sample (`shared`). Screenshots go to test-artifacts/.
"""
from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from datetime import date
from pathlib import Path

import pytest
from test_api import ALEPPO, BARREL_BOMB, IMG, LOCATED, SCRIPT, SHOOTING, make_store

from kharita.api import STATIC_DIR, create_app
from kharita.models import Report

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
ARTIFACTS = ROOT / "test-artifacts"
VENDOR = STATIC_DIR / "vendor"
VENDOR_FILES = ("leaflet.js", "leaflet.css", "leaflet.markercluster.js", "MarkerCluster.css",
                "topojson-client.min.js", "countries-50m.json", "admin1.json")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
GOVERNMENT_BLUE = "#0072b2"  # app.js SIDE_COLOURS
# Written for this test: an attack on a hospital, so the samples store has a health-care record.
HOSPITAL_REPORT = Report.create(
    "Airstrikes hit the main hospital in Saraqib on March 3, 2024, killing two nurses and a "
    "patient, a local doctor said. The hospital stopped admitting patients. Since February 1, at least "
    "nine medical facilities have been attacked in Idlib province, the local health directorate said.",
    title="Hospital hit in Saraqib", outlet="Kharita test desk", url="https://example.org/saraqib-hospital",
    published=date(2024, 3, 4),
)


def _chromium() -> str | None:
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    return shutil.which("chromium")


CHROMIUM = _chromium()
missing_vendor = [f for f in VENDOR_FILES if not (VENDOR / f).exists()]
if CHROMIUM is None:
    pytest.skip("no Chromium (apt-get install chromium)", allow_module_level=True)
if missing_vendor:
    pytest.skip(f"vendored map assets missing ({', '.join(missing_vendor)}): run `bash web/build.sh`",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")


def _serve(store):
    """Run the app on a free loopback port in a thread; yield its base URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(store), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
    store.close()


def _ingest(store, reports) -> None:
    """Store reports as `kharita ingest` does: events, control claims and tallies."""
    from kharita.pipeline import Pipeline

    pipeline = Pipeline()
    for report in reports:
        doc = pipeline.annotate(report)
        store.add(report, doc.events, doc.control, tallies=doc.tallies)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    yield from _serve(make_store(tmp_path_factory.mktemp("browser") / "t.db"))


@pytest.fixture(scope="module")
def samples_url(tmp_path_factory):
    from kharita.ingest import read_paths
    from kharita.store import Store

    reports = [r for r in read_paths(SAMPLES) if isinstance(r, Report)]
    assert len(reports) >= 6
    store = Store(tmp_path_factory.mktemp("samples") / "s.db")
    _ingest(store, reports + [HOSPITAL_REPORT])
    yield from _serve(store)


@pytest.fixture(scope="module")
def flagship_url(tmp_path_factory, flagship_report):
    from kharita.store import Store

    store = Store(tmp_path_factory.mktemp("flagship") / "f.db")
    _ingest(store, [flagship_report])
    yield from _serve(store)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _open(browser, base_url):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    errors: list[str] = []
    outside: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("request", lambda req: None if req.url.startswith((base_url, "data:")) else outside.append(req.url))
    pg.goto(base_url + "/")
    pg.wait_for_selector("body[data-ready]", state="attached")
    assert pg.get_attribute("body", "data-ready") == "true", pg.text_content("#kh-error")
    _idle(pg)
    yield pg
    assert errors == [], errors
    assert outside == [], f"the page fetched from elsewhere: {outside}"
    context.close()


def _idle(page) -> None:
    """Wait until no request of the page's own is pending (it marks <body data-busy>)."""
    page.wait_for_function("() => !document.body.hasAttribute('data-busy')")


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.mouse.move(5, 790)  # no tooltip over what is shown
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / name))


def _wait_listed(page, count: int) -> None:
    # Function form: the page's CSP forbids the eval a string expression would need.
    page.wait_for_function("n => document.querySelectorAll('#kh-list .kh-item').length === n", arg=count)


def _listed_dates(page) -> list[str]:
    metas = page.locator("#kh-list .kh-item .kh-item-meta").all_inner_texts()
    return [m.split(" · ")[0] for m in metas]


def _event_panel(page, event_id: str):
    """The side panel of an event, once its evidence is in (list pages come without it)."""
    panel = page.locator(f'#kh-panel .kh-event[data-event-id="{event_id}"][data-evidence="loaded"]')
    panel.wait_for()
    return panel


def _api(page, base_url: str, path: str):
    response = page.request.get(base_url + path)
    assert response.ok, (path, response.status)
    return response.json()


@pytest.fixture()
def page(browser, base_url):
    yield from _open(browser, base_url)


@pytest.fixture()
def samples_page(browser, samples_url):
    yield from _open(browser, samples_url)


@pytest.fixture()
def flagship_page(browser, flagship_url):
    yield from _open(browser, flagship_url)


# -- hand-built events ---------------------------------------------------------

def test_markers_panel_evidence_and_no_script_execution(page):
    # One marker per located event (far enough apart not to cluster), outlines drawn.
    assert page.locator(".kh-marker").count() == len(LOCATED)
    assert page.locator(".leaflet-kh-countries-pane path").count() > 0
    assert int(page.get_attribute("body", "data-admin1-units")) > 3000  # Natural Earth admin-1 units
    assert page.locator(".kh-item").count() == len(LOCATED)
    counts = page.text_content("#kh-counts")
    assert "2 events in 2024-03-04 – 2024-03-06" in counts and "1 without coordinates" in counts
    assert page.locator(".kh-legend li").count() == 2

    # Click a marker: the side panel shows the event, its claims and its evidence highlighted.
    page.locator(f'.kh-marker[data-event-id="{BARREL_BOMB.event_id_cnty}"]').click()
    panel = _event_panel(page, BARREL_BOMB.event_id_cnty)
    text = panel.inner_text()
    for value in ("Air/drone strike", "Explosions/Remote violence", "2024-03-04 (exact day)",
                  "Ariha, Idlib, Syria", "Military Forces of Syria (2000-)", "Civilians (Syria)", "barrel bomb",
                  "3 civilians killed, according to local activists"):
        assert value in text, value
    snippet = panel.locator("blockquote")
    assert snippet.locator("mark[data-field='sub_event_type']").inner_text() == "dropped a barrel bomb"
    assert snippet.locator("mark[data-field='sub_event_type'] mark[data-field='weapons']").inner_text() == "barrel bomb"
    assert snippet.locator("mark[data-field='fatalities']").inner_text() == "killing three civilians"
    assert panel.locator("a[href='https://example.org/ariha']").count() >= 1
    assert page.locator(f'.kh-marker.kh-selected[data-event-id="{BARREL_BOMB.event_id_cnty}"]').count() == 1
    _shot(page, "map.png")

    # The list opens the other event; report markup shows as text and never runs.
    page.locator(f'.kh-item[data-event-id="{SHOOTING.event_id_cnty}"]').click()
    panel = _event_panel(page, SHOOTING.event_id_cnty)
    assert "Attack" in panel.inner_text()
    assert panel.locator("mark[data-field='fatalities']").first.inner_text() == "shot dead two aid workers"
    quote = panel.locator("blockquote").text_content()
    assert SCRIPT in quote and IMG in quote
    assert page.locator("#kh-panel script, #kh-panel img").count() == 0
    hrefs = panel.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert not any(h.startswith("javascript") for h in hrefs), hrefs  # a javascript: URL is not linked
    assert ALEPPO.title in panel.inner_text()  # "<b>" shown as text
    page.wait_for_timeout(200)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    _shot(page, "map-script.png")


def test_the_panel_shows_the_facts_at_once_and_the_evidence_when_it_comes(page, base_url):
    # The map's pages carry no evidence: the panel fetches the event when it opens.
    features = _api(page, base_url, "/api/events.geojson")["features"]
    assert features and all("evidence_snippets" not in f["properties"] for f in features)
    held, asked = [], []
    page.on("request", lambda request: asked.append(request.url) if "/api/events/" in request.url else None)
    page.route("**/api/events/*", lambda route: held.append(route))  # held until released below
    page.locator(f'.kh-item[data-event-id="{BARREL_BOMB.event_id_cnty}"]').click()
    panel = page.locator(f'#kh-panel .kh-event[data-event-id="{BARREL_BOMB.event_id_cnty}"]')
    loading = panel.and_(page.locator("[data-evidence='loading']"))
    loading.wait_for()
    text = loading.inner_text()
    assert "Ariha, Idlib, Syria" in text and "3 civilians killed, according to local activists" in text
    assert "Loading the evidence" in text and loading.locator("blockquote").count() == 0
    while not held:
        page.wait_for_timeout(20)
    held.pop().continue_()
    loaded = _event_panel(page, BARREL_BOMB.event_id_cnty)
    assert loaded.locator("mark[data-field='location']").inner_text() == "Ariha"
    assert "Loading" not in loaded.inner_text()
    assert page.evaluate("document.activeElement.id") == "kh-panel-title"  # still in the panel

    # Opened again, the event comes from the page's own copy; an answer that fails says so.
    page.keyboard.press("Escape")
    page.unroute("**/api/events/*")
    page.route("**/api/events/*", lambda route: route.abort())
    page.locator(f'.kh-item[data-event-id="{BARREL_BOMB.event_id_cnty}"]').click()
    _event_panel(page, BARREL_BOMB.event_id_cnty)
    page.locator(f'.kh-item[data-event-id="{SHOOTING.event_id_cnty}"]').click()
    failed = page.locator(f'#kh-panel .kh-event[data-event-id="{SHOOTING.event_id_cnty}"][data-evidence="failed"]')
    failed.wait_for()
    assert "Could not load the evidence" in failed.inner_text() and "Aleppo" in failed.inner_text()
    assert [url.rsplit("/", 1)[1] for url in asked] == [BARREL_BOMB.event_id_cnty, SHOOTING.event_id_cnty]


def test_keyboard_opens_the_panel_and_escape_closes_it(page):
    # Markers and list items take the keyboard focus, with a visible outline.
    assert page.get_attribute(".kh-marker >> nth=0", "tabindex") == "0"
    first = page.locator(".kh-item").first
    first.focus()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    page.locator("#kh-panel .kh-event").wait_for()
    assert page.evaluate("document.activeElement.id") == "kh-panel-title"  # focus moved into the panel
    assert page.locator(".kh-item[aria-current='true']").count() == 1
    page.keyboard.press("Escape")
    page.locator("#kh-panel").wait_for(state="hidden")
    assert page.evaluate("document.activeElement.classList.contains('kh-item')")  # focus is back
    # Every form control has a label.
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('input, select')]
        .filter(e => !e.labels || !e.labels.length).map(e => e.id)""")
    assert unlabelled == []


# -- the samples ---------------------------------------------------------------

def test_time_slider_and_play_hide_events_outside_the_window(samples_page, samples_url):
    page = samples_page
    everything = _api(page, samples_url, "/api/events.geojson?limit=5000")["features"]
    assert page.locator("#kh-list .kh-item").count() == len(everything)
    first_day = min(f["properties"]["event_date"] for f in everything)
    last_day = max(f["properties"]["event_date"] for f in everything)
    assert page.input_value("#kh-from") == first_day and page.input_value("#kh-to") == last_day
    histogram = page.locator("#kh-histogram")
    assert histogram.get_attribute("data-source") == "api"
    assert f"{len(everything)} events in" in histogram.get_attribute("aria-label")

    # A window typed into the date fields.
    page.fill("#kh-from", "2021-02-01")
    page.fill("#kh-to", "2021-03-31")
    inside = [f for f in everything if "2021-02-01" <= f["properties"]["event_date"] <= "2021-03-31"]
    assert 0 < len(inside) < len(everything)
    _wait_listed(page, len(inside))
    assert all("2021-02-01" <= d <= "2021-03-31" for d in _listed_dates(page))
    assert f"{len(inside)} events in 2021-02-01 – 2021-03-31" in page.text_content("#kh-counts")
    _shot(page, "samples-window.png")

    # The slider's start handle, by keyboard: End moves it to the last day, so only that day is left.
    page.click("#kh-all-time")
    page.focus("#kh-start")
    page.keyboard.press("End")
    last = [f for f in everything if f["properties"]["event_date"] == last_day]
    _wait_listed(page, len(last))
    assert set(_listed_dates(page)) == {last_day}
    assert page.get_attribute("body", "data-window") == f"{last_day}/{last_day}"
    markers = page.locator(".kh-marker").count() + sum(
        int(n) for n in page.locator(".kh-cluster-count").all_inner_texts())
    assert markers == len(last)

    # Play: a one-month window that moves forward by itself; pressing again pauses.
    page.click("#kh-all-time")
    page.select_option("#kh-step", "month")
    page.click("#kh-play")
    assert page.get_attribute("#kh-play", "aria-pressed") == "true"
    started = page.get_attribute("body", "data-window")
    assert started.startswith(first_day + "/") and started != f"{first_day}/{last_day}"
    page.wait_for_function("w => document.body.dataset.window !== w", arg=started, timeout=5_000)
    page.click("#kh-play")
    assert page.get_attribute("#kh-play", "aria-pressed") == "false"
    start, end = page.get_attribute("body", "data-window").split("/")
    assert first_day < start <= end
    assert all(start <= d <= end for d in _listed_dates(page))


def test_filters_reload_the_events_and_the_download_links(samples_page, samples_url):
    page = samples_page
    page.select_option("#kh-type", "Protests")
    _idle(page)
    protests = _api(page, samples_url, "/api/events.geojson?event_type=Protests")["features"]
    assert protests, "the samples have protests"
    assert page.locator("#kh-list .kh-item").count() == len(protests)
    assert set(page.locator("#kh-list .kh-item-type").all_inner_texts()) == {
        f["properties"]["sub_event_type"] for f in protests}

    page.select_option("#kh-type", "")
    page.fill("#kh-fat-min", "5")
    page.click("#kh-filters button[type=submit]")
    _idle(page)
    deadly = _api(page, samples_url, "/api/events.geojson?fatalities_min=5")["features"]
    assert deadly and all(f["properties"]["fatalities"] >= 5 for f in deadly)
    assert page.locator("#kh-list .kh-item").count() == len(deadly)
    for meta in page.locator("#kh-list .kh-item-meta").all_inner_texts():
        assert int(re.search(r"(\d+) killed", meta).group(1)) >= 5

    # The downloads carry the same filters and the window.
    href = page.get_attribute("#kh-export-csv", "href")
    assert "format=acled-csv" in href and "fatalities_min=5" in href and "date_from=" in href
    csv = page.request.get(samples_url + href)
    assert csv.ok
    lines = csv.text().strip().splitlines()
    assert lines[0].startswith("event_id_cnty") and len(lines) == 1 + len(deadly)
    geojson = page.request.get(samples_url + page.get_attribute("#kh-export-geojson", "href"))
    assert geojson.ok and len(geojson.json()["features"]) == len(deadly)
    _shot(page, "samples-filtered.png")


def test_health_view_lists_and_maps_the_register(samples_page, samples_url):
    page = samples_page
    register = _api(page, samples_url, "/api/health-attacks")["items"]
    assert register, "the hospital report is coded as an attack on health care"
    page.click("button[data-view=health]")
    assert page.get_attribute("button[data-view=health]", "aria-pressed") == "true"
    page.wait_for_selector("body[data-health]", state="attached")
    _idle(page)
    rows = page.locator("#kh-health-table tbody tr")
    assert rows.count() == len(register)
    located = [r for r in register if r["latitude"] is not None]
    assert page.locator(".kh-health-marker").count() == len(located)
    assert page.locator(".kh-marker").count() == 0  # the events layer is off

    hit = next(r for r in register if "hospital" in r["facility_types"])
    row = page.locator(f'#kh-health-table tr[data-event-id="{hit["event_id"]}"]')
    assert hit["attack_type"] in row.inner_text()
    row.locator("button").click()
    panel = _event_panel(page, hit["event_id"])
    assert hit["attack_type"] in panel.inner_text() and "hospital" in panel.inner_text()
    assert panel.locator("blockquote mark").count() > 0
    assert panel.locator("a[href='https://example.org/saraqib-hospital']").count() >= 1
    # The report's running count comes with it, as a claim of the report, not an event.
    tallies = panel.locator(".kh-tallies[data-loaded='1']")
    tallies.wait_for()
    text = tallies.inner_text()
    assert "about 9 medical facilities attacked in Idlib since February 1"  in text
    assert "the local health directorate" in text
    assert tallies.locator("mark", has_text="at least nine medical facilities").count() == 1
    _shot(page, "health.png")


# -- the flagship (../shared) ----------------------------------------------------

@pytest.mark.shared
def test_flagship_report_on_the_map(flagship_page):
    """The flagship sample's events are on the map; the Halfaya recapture shows its evidence."""
    page = flagship_page
    assert page.locator("#kh-list .kh-item").count() >= 4
    item = page.locator(".kh-item", has_text="Government regains territory").filter(has_text="Halfaya").first
    item.click()
    panel = page.locator("#kh-panel .kh-event[data-evidence='loaded']")
    panel.wait_for()
    text = panel.inner_text()
    assert "Government regains territory" in text and "Halfaya, Hama, Syria" in text
    assert panel.locator("mark[data-field='location']").first.inner_text() == "Halfaya"
    _shot(page, "flagship-map.png")


@pytest.mark.shared
def test_flagship_control_map_shows_halfaya_government_held(flagship_page):
    page = flagship_page
    page.click("button[data-view=control]")
    page.fill("#kh-control-date", "2017-04-23")
    page.click("#kh-control-form button[type=submit]")
    page.wait_for_selector("body[data-control-date='2017-04-23']", state="attached")
    _idle(page)
    place = page.locator("#kh-control-list .kh-item", has_text="Halfaya")
    assert place.get_attribute("data-side") == "government"
    marker = page.locator(f'path.kh-control-marker[data-place-key="{place.get_attribute("data-place-key")}"]')
    assert marker.get_attribute("data-side") == "government"
    assert marker.get_attribute("fill") == GOVERNMENT_BLUE
    assert "government" in page.locator(".kh-legend").inner_text()
    place.click()
    panel = page.locator("#kh-panel .kh-place")
    panel.wait_for()
    assert "Halfaya" in panel.inner_text() and "government: from" in panel.inner_text()
    assert panel.locator("mark").count() > 0  # the sentences saying so
    _shot(page, "flagship-control.png")
    page.keyboard.press("Escape")
    page.locator("#kh-panel").wait_for(state="hidden")
