"""The read-only HTTP API and the map page behind `kharita serve`.

`create_app(store)` returns a FastAPI app with:

- ``GET /api/events``            events as JSON (the `Event` model), filtered and paged;
- ``GET /api/events.geojson``    the located events as a GeoJSON FeatureCollection whose
  properties carry the ACLED fields and the evidence, as sentence snippets of the
  reports with the supporting spans' offsets (relative to each snippet);
- ``GET /api/events/{id}``, ``GET /api/reports/{id}`` one record, or a JSON 404;
- ``GET /api/stats``             what the store holds;
- ``GET /``                      the single-page map; ``/static`` its files.

Report text is untrusted: the API returns it as plain JSON strings and the page
renders it with DOM text nodes only. No CORS headers are sent.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field, create_model
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import __version__ as _pkg_version
from .models import ACLED_COLUMNS, Claim, Event, Report, Span
from .store import EventFilter, Store

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "web" / "static"

DEFAULT_LIMIT = 500
MAX_LIMIT = 5000
MAX_FILTER_CHARS = 200

# A snippet is the enclosing sentence(s) of the spans, but never more than this
# many characters either side of them (a report without punctuation would
# otherwise come back whole); a clipped side is marked with an ellipsis.
SNIPPET_MAX_CONTEXT = 400
ELLIPSIS = "…"
GAP = " … "  # joins non-adjacent sentences of one report

# The map page's Content-Security-Policy: scripts only from this server, so even
# an escaping bug could not run report text.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


# -- response models ---------------------------------------------------------

class Snippet(BaseModel):
    """The sentence(s) of one report that support an event, with the spans marked."""

    report_id: str
    text: str = Field(description="the enclosing sentence(s) of the spans; non-adjacent ones joined by ' … '")
    highlights: list[tuple[int, int, str]] = Field(
        default_factory=list,
        description="[start, end, field]: offsets into `text` (not the report) of each evidence span",
    )
    title: str | None = None
    outlet: str | None = None
    url: str | None = None
    published: date | None = None


def _acled_field(name: str) -> tuple[Any, Any]:
    info = Event.model_fields[name]
    return (info.annotation, info.default)


EventProperties = create_model(  # the ACLED columns, typed as in `Event`, then ours
    "EventProperties",
    __doc__="A GeoJSON feature's properties: the ACLED columns, the event id and the evidence.",
    event_id=(str, ...),
    **{name: _acled_field(name) for name in ACLED_COLUMNS},
    weapons=(list[str], []),
    injuries=(int | None, None),
    confidence=(float, 0.5),
    report_ids=(list[str], []),
    claims=(list[Claim], []),
    evidence_snippets=(list[Snippet], []),
)


class PointGeometry(BaseModel):
    type: Literal["Point"] = "Point"
    coordinates: tuple[float, float] = Field(description="[longitude, latitude]")


class Feature(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: str
    geometry: PointGeometry
    properties: EventProperties  # type: ignore[valid-type]


class CollectionMeta(BaseModel):
    """Kharita's foreign member: how the filtered events map onto the features."""

    matched: int = Field(description="events matching the filters (within limit/offset)")
    mapped: int = Field(description="features: the matched events that have coordinates")
    unlocated: int = Field(description="matched events skipped for lack of coordinates")
    limit: int
    offset: int


class FeatureCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[Feature]
    meta: CollectionMeta


class Stats(BaseModel):
    reports: int
    events: int


class ErrorBody(BaseModel):
    detail: Any


# -- evidence snippets -------------------------------------------------------

_SENTENCE_END = ".!?؟"


def _sentence_start(text: str, pos: int) -> int:
    """Where the sentence holding `pos` starts: after the last `.!?`+space or newline before it."""
    i = pos - 1
    while i >= 0:
        ch = text[i]
        if ch == "\n":
            break
        if ch.isspace() and i > 0 and text[i - 1] in _SENTENCE_END:
            break
        i -= 1
    start = i + 1
    while start < pos and text[start].isspace():
        start += 1
    return start


def _sentence_end(text: str, pos: int) -> int:
    """Where the sentence holding `text[pos - 1]` ends (exclusive), punctuation included."""
    n = len(text)
    end = n
    for j in range(max(pos - 1, 0), n):
        ch = text[j]
        if ch == "\n" and j >= pos:
            end = j
            break
        if ch in _SENTENCE_END and (j + 1 == n or text[j + 1].isspace()):
            end = max(j + 1, pos)
            break
    while end > pos and text[end - 1].isspace():
        end -= 1
    return end


def _locate(text: str, span: Span) -> tuple[int, int] | None:
    """The span's offsets in `text`, re-found by its text when they no longer match."""
    if 0 <= span.start < span.end <= len(text) and text[span.start:span.end] == span.text:
        return span.start, span.end
    if span.text:
        found = text.find(span.text)
        if found >= 0:
            return found, found + len(span.text)
    return None


def build_snippet(
    text: str,
    spans: Iterable[tuple[str, Span]],
    report_id: str,
    max_context: int = SNIPPET_MAX_CONTEXT,
) -> Snippet | None:
    """One report's snippet for `(field, span)` pairs citing it.

    Each span is expanded to its enclosing sentence (boundaries: `.!?` followed
    by whitespace, or a newline), clipped to `max_context` characters either
    side; overlapping or whitespace-adjacent sentences are merged, the others
    joined by ``' … '``. Highlights are `[start, end, field]` relative to the
    snippet, so ``snippet.text[start:end] == span.text`` for every span found.
    Spans whose text is not in the report are dropped; None when none is left.
    """
    located: list[tuple[int, int, str]] = []
    for field, span in spans:
        where = _locate(text, span)
        if where is None:
            log.debug("span %r of %s not found in report %s", span.text, field, report_id)
            continue
        located.append((where[0], where[1], field))
    if not located:
        return None

    # [start, end, clipped_left, clipped_right] windows of the report text.
    windows: list[list[Any]] = []
    for start, end, _ in located:
        s, e = _sentence_start(text, start), _sentence_end(text, end)
        clip_l = s < start - max_context
        clip_r = e > end + max_context
        if clip_l:
            s = start - max_context
            space = text.find(" ", s, start)  # begin on a word
            s = space + 1 if space >= 0 else s
        if clip_r:
            e = end + max_context
            space = text.rfind(" ", end, e)
            e = space if space >= 0 else e
        windows.append([s, e, clip_l, clip_r])
    windows.sort(key=lambda w: (w[0], -w[1]))

    merged: list[list[Any]] = []
    for w in windows:
        if merged and (w[0] <= merged[-1][1] or not text[merged[-1][1]:w[0]].strip()):
            last = merged[-1]
            if w[1] > last[1]:
                last[1], last[3] = w[1], w[3]
            elif w[1] == last[1]:
                last[3] = last[3] and w[3]
            continue
        merged.append(list(w))

    parts: list[str] = []
    offsets: list[tuple[int, int, int]] = []  # (window start, window end, position in snippet)
    length = 0
    for k, (s, e, clip_l, clip_r) in enumerate(merged):
        if k:
            parts.append(GAP)
            length += len(GAP)
        if clip_l and k == 0:
            parts.append(ELLIPSIS)
            length += len(ELLIPSIS)
        offsets.append((s, e, length))
        parts.append(text[s:e])
        length += e - s
        if clip_r and k == len(merged) - 1:
            parts.append(ELLIPSIS)
            length += len(ELLIPSIS)

    highlights: list[tuple[int, int, str]] = []
    for start, end, field in located:
        if field in CONTEXT_ONLY_FIELDS:
            continue
        for s, e, at in offsets:
            if s <= start and end <= e:
                highlights.append((at + start - s, at + end - s, field))
                break
    highlights.sort(key=lambda h: (h[0], -h[1], h[2]))
    return Snippet(report_id=report_id, text="".join(parts), highlights=highlights)


# Evidence that frames the snippet without being highlighted: `notes` cites whole sentences.
CONTEXT_ONLY_FIELDS = frozenset({"notes"})


def evidence_snippets(event: Event, report: Callable[[str], Report | None]) -> list[Snippet]:
    """A snippet per report cited by the event's evidence spans, in order of first citation."""
    by_report: dict[str, list[tuple[str, Span]]] = {}
    for field, spans in event.evidence.items():
        for span in spans:
            by_report.setdefault(span.report_id, []).append((field, span))
    snippets: list[Snippet] = []
    for report_id, spans in by_report.items():
        rep = report(report_id)
        if rep is None:
            continue
        snippet = build_snippet(rep.text, spans, report_id)
        if snippet is None:
            continue
        snippet.title, snippet.outlet, snippet.url, snippet.published = (
            rep.title, rep.outlet, rep.url, rep.published,
        )
        snippets.append(snippet)
    return snippets


def event_feature(event: Event, report: Callable[[str], Report | None]) -> Feature | None:
    """The event as a GeoJSON Point feature, or None without coordinates."""
    if event.latitude is None or event.longitude is None:
        return None
    data = event.model_dump(include=set(ACLED_COLUMNS) | {"weapons", "injuries", "confidence", "report_ids"})
    props = EventProperties(
        event_id=event.event_id_cnty,
        **data,
        claims=event.claims,
        evidence_snippets=evidence_snippets(event, report),
    )
    return Feature(
        id=event.event_id_cnty,
        geometry=PointGeometry(coordinates=(event.longitude, event.latitude)),
        properties=props,
    )


# -- query parameters --------------------------------------------------------

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _parse_date(name: str, value: str | None) -> date | None:
    if value is None or value == "":
        return None
    try:
        if not _ISO_DATE.fullmatch(value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPException(422, detail=[{
            "loc": ["query", name],
            "msg": f"{name} must be a calendar date written YYYY-MM-DD, got {value!r}",
            "type": "date_parsing",
        }]) from None


def event_filter(
    date_from: Annotated[str | None, Query(description="first day, YYYY-MM-DD", examples=["2024-01-31"])] = None,
    date_to: Annotated[str | None, Query(description="last day, YYYY-MM-DD (inclusive)")] = None,
    type: Annotated[str | None, Query(  # noqa: A002 - the public parameter name
        max_length=MAX_FILTER_CHARS, description="event type or sub-event type (case-insensitive, exact)",
    )] = None,
    place: Annotated[str | None, Query(
        max_length=MAX_FILTER_CHARS, description="substring of location, admin1 or country",
    )] = None,
    actor: Annotated[str | None, Query(
        max_length=MAX_FILTER_CHARS, description="substring of actor1, actor2 or associated actors",
    )] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"at most {MAX_LIMIT}")] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> EventFilter:
    first, last = _parse_date("date_from", date_from), _parse_date("date_to", date_to)
    if first and last and first > last:
        raise HTTPException(422, detail=[{
            "loc": ["query", "date_from"],
            "msg": f"date_from ({first}) is after date_to ({last})",
            "type": "date_range",
        }])
    return EventFilter(
        date_from=first, date_to=last, event_type=type or None, place=place or None,
        actor=actor or None, limit=limit, offset=offset,
    )


Filter = Annotated[EventFilter, Depends(event_filter)]


# -- the app -----------------------------------------------------------------

_NOT_FOUND = {404: {"model": ErrorBody, "description": "no such record"}}


def create_app(store: Store) -> FastAPI:
    """The API and map page over `store` (read-only)."""
    app = FastAPI(
        title="Kharita",
        description=(
            "Conflict events coded from news reports, ACLED-compatible, each field backed by "
            "evidence spans of the reports. Read-only. Dates are YYYY-MM-DD; report text is "
            "returned verbatim and must be treated as untrusted by clients."
        ),
        version=_pkg_version,
        # FastAPI's interactive docs pages load their scripts from a CDN; Kharita runs
        # offline, so only the machine-readable /openapi.json is served.
        docs_url=None,
        redoc_url=None,
    )
    app.state.store = store

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(Exception)
    async def _server_error(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return JSONResponse({"detail": "internal server error"}, status_code=500)

    @app.get("/api/events", response_model=list[Event], tags=["events"], summary="Events, filtered")
    def list_events(flt: Filter) -> JSONResponse:
        # Already `Event`s: serialise once rather than have FastAPI re-validate them.
        return JSONResponse([e.model_dump(mode="json") for e in store.events(flt)])

    @app.get(
        "/api/events.geojson", response_model=FeatureCollection, tags=["events"],
        summary="Located events as GeoJSON, with evidence snippets",
        responses={200: {"content": {"application/geo+json": {}}}},
    )
    def events_geojson(flt: Filter) -> JSONResponse:
        events = store.events(flt)
        cache: dict[str, Report | None] = {}

        def report(report_id: str) -> Report | None:
            if report_id not in cache:
                cache[report_id] = store.report(report_id)
            return cache[report_id]

        features = [f for f in (event_feature(e, report) for e in events) if f is not None]
        collection = FeatureCollection(
            features=features,
            meta=CollectionMeta(
                matched=len(events), mapped=len(features), unlocated=len(events) - len(features),
                limit=flt.limit or DEFAULT_LIMIT, offset=flt.offset,
            ),
        )
        return JSONResponse(collection.model_dump(mode="json"), media_type="application/geo+json")

    @app.get("/api/events/{event_id}", response_model=Event, responses=_NOT_FOUND, tags=["events"])
    def get_event(event_id: Annotated[str, PathParam(max_length=200)]) -> dict[str, Any]:
        event = store.event(event_id)
        if event is None:
            raise HTTPException(404, detail=f"no event {event_id!r}")
        return event.model_dump(mode="json")

    @app.get("/api/reports/{report_id}", response_model=Report, responses=_NOT_FOUND, tags=["reports"])
    def get_report(report_id: Annotated[str, PathParam(max_length=200)]) -> dict[str, Any]:
        report = store.report(report_id)
        if report is None:
            raise HTTPException(404, detail=f"no report {report_id!r}")
        return report.model_dump(mode="json")

    @app.get("/api/stats", response_model=Stats, tags=["store"], summary="How many reports and events are stored")
    def stats() -> dict[str, int]:
        return store.counts()

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(
            STATIC_DIR / "index.html",
            media_type="text/html; charset=utf-8",
            headers={
                "Content-Security-Policy": PAGE_CSP,
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
                "Cache-Control": "no-cache",
            },
        )

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
