"""The map page in headless Chromium (Debian's; Playwright drives it, never downloads one).

Skipped unless Chromium, the `playwright` package and the vendored front-end
files (`bash web/build.sh`) are all present. Leaves a screenshot in
test-artifacts/map.png.
"""
from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from test_api import ALEPPO, BARREL_BOMB, IMG, LOCATED, SCRIPT, SHOOTING, make_store

from kharita.api import STATIC_DIR, create_app

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
VENDOR = STATIC_DIR / "vendor"
VENDOR_FILES = ("leaflet.js", "leaflet.css", "topojson-client.min.js", "countries-50m.json")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


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


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    yield from _serve(make_store(tmp_path_factory.mktemp("browser") / "t.db"))


@pytest.fixture(scope="module")
def flagship_url(tmp_path_factory, flagship_report):
    from kharita.pipeline import Pipeline
    from kharita.store import Store

    store = Store(tmp_path_factory.mktemp("flagship") / "f.db")
    store.add(flagship_report, Pipeline()(flagship_report))
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
    pg.wait_for_selector("body[data-ready]")
    assert pg.get_attribute("body", "data-ready") == "true", pg.text_content("#kh-error")
    yield pg
    assert errors == [], errors
    assert outside == [], f"the page fetched from elsewhere: {outside}"
    context.close()


@pytest.fixture()
def page(browser, base_url):
    yield from _open(browser, base_url)


@pytest.fixture()
def flagship_page(browser, flagship_url):
    yield from _open(browser, flagship_url)


def test_map_markers_popup_evidence_and_no_script_execution(page):
    # One marker per located event, country outlines drawn, one list item per marker.
    markers = page.locator("path.kh-marker")
    assert markers.count() == len(LOCATED)
    assert page.locator(".leaflet-kh-countries-pane path").count() > 0
    assert page.locator(".kh-item").count() == len(LOCATED)
    counts = page.text_content("#kh-counts")
    assert "2 events on the map" in counts and "1 without coordinates" in counts
    assert page.locator(".kh-legend li").count() == 2

    # Click a marker: the popup shows the event and its evidence with the span highlighted.
    page.locator(f'path.kh-marker[data-event-id="{BARREL_BOMB.event_id_cnty}"]').click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    text = popup.inner_text()
    for value in ("Air/drone strike", "Explosions/Remote violence", "2024-03-04 (exact day)",
                  "Ariha, Idlib, Syria", "Military Forces of Syria (2000-) vs Civilians (Syria)", "barrel bomb"):
        assert value in text, value
    assert popup.locator("mark[data-field='sub_event_type']").inner_text() == "dropped a barrel bomb"
    assert popup.locator("mark[data-field='sub_event_type'] mark[data-field='weapons']").inner_text() == "barrel bomb"
    assert popup.locator("mark[data-field='fatalities']").inner_text() == "killing three civilians"
    assert popup.locator("a").get_attribute("href") == "https://example.org/ariha"
    page.mouse.move(400, 700)  # off the marker: no tooltip over the popup
    page.wait_for_timeout(400)  # the popup's fade-in
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "map.png"))

    # The list focuses the other marker and opens its popup; report markup shows as text.
    page.locator(f'.kh-item[data-event-id="{SHOOTING.event_id_cnty}"]').click()
    popup = page.locator(".leaflet-popup-content .kh-popup[data-event-id='SYR9003']")
    popup.wait_for()
    assert "Attack" in popup.inner_text()
    assert popup.locator("mark[data-field='fatalities']").inner_text() == "shot dead two aid workers"
    quote = popup.locator("blockquote").text_content()
    assert SCRIPT in quote and IMG in quote
    assert popup.locator("script, img").count() == 0
    assert popup.locator("a").count() == 0  # a javascript: URL is not linked
    assert ALEPPO.title in popup.inner_text()  # "<b>" shown as text
    page.wait_for_timeout(200)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    page.wait_for_timeout(200)
    page.screenshot(path=str(ARTIFACTS / "map-script.png"))


def test_list_items_are_keyboard_focusable(page):
    first = page.locator(".kh-item").first
    first.focus()
    assert page.evaluate("document.activeElement.classList.contains('kh-item')")
    page.keyboard.press("Enter")
    page.locator(".leaflet-popup-content .kh-popup").wait_for()
    assert page.locator(".kh-item[aria-current='true']").count() == 1


def test_flagship_report_on_the_map(flagship_page):
    """The flagship sample's events are on the map; the Halfaya recapture shows its evidence."""
    page = flagship_page
    assert page.locator("path.kh-marker").count() >= 4
    item = page.locator(".kh-item", has_text="Government regains territory").filter(has_text="Halfaya").first
    item.click()
    popup = page.locator(".leaflet-popup-content .kh-popup")
    popup.wait_for()
    text = popup.inner_text()
    assert "Government regains territory" in text and "Halfaya, Hama, Syria" in text
    assert popup.locator("mark[data-field='location']").first.inner_text() == "Halfaya"
    page.mouse.move(400, 700)
    page.wait_for_timeout(400)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "flagship-map.png"))
