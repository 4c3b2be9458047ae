"""The HTTP API and the map page behind `kharita serve`.

`create_app(store, settings)` returns a FastAPI app (OpenAPI at ``/openapi.json``):

- ``GET /api/events``               events, filtered, sorted, paged by cursor:
  ``{"items": [...], "next_cursor": str | null}``; each item an `EventSummary` (the `Event`
  without its evidence spans), or the whole `Event` with ``evidence=true``;
- ``GET /api/events.geojson``       the located events of a page as a GeoJSON FeatureCollection
  whose properties carry the ACLED fields and claims (with ``evidence=true``, also the evidence
  as sentence snippets of the reports), plus ``next_cursor``;
- ``GET /api/events/{id}``          one event with its evidence snippets and claims;
  ``/api/events/{id}/mentions`` the per-report mentions merged into it, and why;
- ``POST /api/reports``             ingest one report (JSON or text/plain; bearer token);
  ``GET /api/reports/{id}``;
- ``GET /api/places/{place}/control``, ``GET /api/control?date=``  who held which place when;
- ``GET /api/health-attacks``       the WHO SSA register (JSON or GeoJSON);
- ``GET /api/histogram``            events and fatalities per day, week or month;
- ``GET /api/export``               ACLED CSV, GeoJSON or Parquet, as a download;
- ``GET /api/stats``                what the store holds;
- ``GET /``                         the single-page map; ``/static`` its files.

Every error is an RFC 9457 problem (``application/problem+json``), 4xx for any bad input.
Report text is untrusted: the API returns it only inside JSON and the page renders it
with DOM text nodes; nothing served as HTML interpolates stored or request content.
No CORS headers are sent unless origins are configured. Writes need the configured
bearer token and are disabled without one.
"""
from __future__ import annotations

import dataclasses
import hmac
import json
import logging
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from http import HTTPStatus
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from fastapi import Depends, FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
)
from sqlalchemy import select
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import __version__ as _pkg_version
from . import control as control_rules
from . import export as exporter
from .control import Period
from .models import ACLED_COLUMNS, Claim, Event, HealthAttack, Report, Span, Tally
from .store import EventFilter, Store, default_db_path, event_reports_table

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "web" / "static"

DEFAULT_LIMIT = 500
MAX_LIMIT = 5000
MAX_FILTER_CHARS = 200
MAX_ID_CHARS = 200
MAX_CURSOR_CHARS = 1000
INLINE_PAGE_LIMIT = 100  # see `list_events`
# Pages read one after another for an export (each is one query).
EXPORT_PAGE = 1000

DEFAULT_MAX_BODY = 1_000_000  # bytes: a long wire report is 50 kB
MIN_TOKEN_CHARS = 16
PROBLEM_MEDIA_TYPE = "application/problem+json"
GEOJSON_MEDIA_TYPE = "application/geo+json"

# Free-text parameters: printable text only (a NUL would be rejected by PostgreSQL as a
# server error; control characters are never part of a name).
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"

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


# -- settings ------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class ApiSettings:
    """How the API is exposed. Without a token the write endpoints are disabled."""

    token: str | None = None
    max_body: int = DEFAULT_MAX_BODY
    cors_origins: tuple[str, ...] = ()
    # An online tile layer for the map, only when configured ("https://tile.example/{z}/{x}/{y}.png").
    tiles: str | None = None
    tiles_attribution: str = ""

    def __post_init__(self) -> None:
        if self.token is not None and len(self.token) < MIN_TOKEN_CHARS:
            raise ValueError(f"the API token must be at least {MIN_TOKEN_CHARS} characters long")
        if self.tiles is not None and not (
                self.tiles.startswith(("https://", "http://")) and all(k in self.tiles for k in ("{z}", "{x}", "{y}"))):
            raise ValueError("the tile URL must be http(s) and hold {z}, {x} and {y}")
        if self.max_body < 1:
            raise ValueError("the request body limit must be at least 1 byte")

    def __repr__(self) -> str:  # never print the token
        return (f"ApiSettings(token={'set' if self.token else None}, max_body={self.max_body}, "
                f"cors_origins={self.cors_origins}, tiles={self.tiles})")

    @property
    def page_csp(self) -> str:
        """The map page's policy, letting images come from the tile server when there is one."""
        if not self.tiles:
            return PAGE_CSP
        parts = urlsplit(self.tiles)
        origin = f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}"
        return PAGE_CSP.replace("img-src 'self' data:", f"img-src 'self' data: {origin}")


def read_token_file(path: str | Path) -> str:
    """The token in a file: its content with surrounding whitespace stripped."""
    try:
        token = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read the token file {path}: {exc}") from None
    if not token:
        raise ValueError(f"the token file {path} is empty")
    return token


# Environment read by `settings_from_env` (and so by every `kharita serve --workers` process).
ENV_TOKEN = "KHARITA_API_TOKEN"
ENV_TOKEN_FILE = "KHARITA_API_TOKEN_FILE"
ENV_MAX_BODY = "KHARITA_MAX_BODY"
ENV_CORS_ORIGINS = "KHARITA_CORS_ORIGINS"  # comma-separated
ENV_TILES = "KHARITA_TILES"
ENV_TILES_ATTRIBUTION = "KHARITA_TILES_ATTRIBUTION"


def settings_from_env(environ: dict[str, str] | None = None) -> ApiSettings:
    """Settings from the environment: a token file wins over a token given inline."""
    env = os.environ if environ is None else environ
    token = env.get(ENV_TOKEN) or None
    if env.get(ENV_TOKEN_FILE):
        token = read_token_file(env[ENV_TOKEN_FILE])
    max_body = int(env.get(ENV_MAX_BODY) or DEFAULT_MAX_BODY)
    origins = tuple(o.strip() for o in env.get(ENV_CORS_ORIGINS, "").split(",") if o.strip())
    return ApiSettings(token=token, max_body=max_body, cors_origins=origins, tiles=env.get(ENV_TILES) or None,
                       tiles_attribution=env.get(ENV_TILES_ATTRIBUTION, ""))


def app_from_env() -> FastAPI:
    """The app over `$KHARITA_DB` with `settings_from_env()`: the factory each uvicorn
    worker process calls (`uvicorn --factory kharita.api:app_from_env`)."""
    return create_app(Store(default_db_path()), settings_from_env())


# -- problems (RFC 9457) -------------------------------------------------------

class ParamError(BaseModel):
    loc: list[str | int] = Field(description='where: ["query", "bbox"], ["body", "text"], ...')
    msg: str
    type: str


class MapConfig(BaseModel):
    """The map page's settings: an online tile layer only when the server was given one."""

    tiles: str | None = Field(default=None, description="tile URL template ({z}/{x}/{y}), or null: offline outlines only")
    tiles_attribution: str = ""


class Problem(BaseModel):
    """An RFC 9457 problem: `type` is about:blank, so `title` is the status' phrase."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[ParamError] | None = Field(default=None, description="each invalid parameter (422 only)")


class ApiError(Exception):
    """An error the API answers with a problem response."""

    def __init__(self, status: int, detail: str, errors: list[dict] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.errors, self.headers = status, detail, errors, headers


def invalid(where: str, name: str, msg: str, kind: str = "value_error") -> ApiError:
    """A 422 for one bad parameter, worded like FastAPI's own validation errors."""
    return ApiError(422, f"{where}.{name}: {msg}", errors=[{"loc": [where, name], "msg": msg, "type": kind}])


def problem_response(status: int, detail: str, errors: list[dict] | None = None,
                     headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status,
                            "detail": detail}
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def _problem_bytes(status: int, detail: str) -> bytes:
    return json.dumps({"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status,
                       "detail": detail}).encode()


class BodyTooLarge(StarletteHTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the limit of {limit:,} bytes")


class BodyLimit:
    """Refuses request bodies over `max_body` bytes with 413, without buffering them.

    A declared Content-Length over the limit is refused before anything is read; a
    chunked body is counted as it streams in and refused at the first chunk that
    crosses the limit. Also marks every response `nosniff`."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app, self.max_body = app, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit():
                    await self._refuse(send, 400, "the Content-Length header is not a number")
                    return
                if int(value) > self.max_body:
                    await self._refuse(send, 413, BodyTooLarge(self.max_body).detail)
                    return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise BodyTooLarge(self.max_body)
            return message

        async def marking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), (b"x-content-type-options", b"nosniff")]
            await send(message)

        try:
            await self.app(scope, limited_receive, marking_send)
        except BodyTooLarge as exc:  # read outside a route (the route's own reads are answered inside)
            if started:
                raise
            await self._refuse(send, 413, exc.detail)

    @staticmethod
    async def _refuse(send: Send, status: int, detail: str) -> None:
        body = _problem_bytes(status, detail)
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", PROBLEM_MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"), (b"x-content-type-options", b"nosniff")]})
        await send({"type": "http.response.body", "body": body})


# -- response models -----------------------------------------------------------

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


def _without_evidence(model: type[BaseModel], doc: str, **replaced: Any) -> type[BaseModel]:
    """`model`'s fields but `evidence` (some retyped by `replaced`), as a model of its own:
    the shape of what event lists return by default."""
    fields = {name: replaced.get(name, (info.annotation, info)) for name, info in model.model_fields.items()
              if name != "evidence"}
    return create_model(f"{model.__name__}Summary", __doc__=doc, **fields)


ClaimSummary = _without_evidence(Claim, "A claim without its evidence spans.")
HealthAttackSummary = _without_evidence(HealthAttack, "A health-care record without its evidence spans.")
EventSummary = _without_evidence(
    Event, "An event without its evidence spans, nor those of its claims and health record: what event "
    "lists return unless asked for `evidence=true`. `/api/events/{event_id}` gives the whole event.",
    claims=(list[ClaimSummary], []), health=(HealthAttackSummary | None, None))  # type: ignore[valid-type]


EventProperties = create_model(  # the ACLED columns, typed as in `Event`, then ours
    "EventProperties",
    __doc__="A GeoJSON feature's properties: the ACLED columns, the event id, its claims and (with "
            "`evidence=true`) its evidence.",
    event_id=(str, ...),
    **{name: _acled_field(name) for name in ACLED_COLUMNS},
    weapons=(list[str], []),
    injuries=(int | None, None),
    confidence=(float, 0.5),
    report_ids=(list[str], []),
    claims=(list[Claim], Field([], description="each figure with its source; their evidence spans only with "
                                               "`evidence=true`")),
    evidence_snippets=(list[Snippet], Field([], description="only with `evidence=true`: the sentences of the "
                                                            "reports supporting the event")),
)
# What a feature's properties take from the event as it is, in their order, each with its
# default (for a summary stored before the field existed; required fields are always there).
FEATURE_FIELDS: dict[str, Any] = {
    name: None if Event.model_fields[name].is_required() else Event.model_fields[name].get_default(
        call_default_factory=True)
    for name in EventProperties.model_fields if name in Event.model_fields}


class PointGeometry(BaseModel):
    type: Literal["Point"] = "Point"
    coordinates: tuple[float, float] = Field(description="[longitude, latitude]")


class Feature(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: str
    geometry: PointGeometry
    properties: EventProperties  # type: ignore[valid-type]


class CollectionMeta(BaseModel):
    """Kharita's foreign member: how the page of filtered events maps onto the features."""

    matched: int = Field(description="events of this page matching the filters")
    mapped: int = Field(description="features: the matched events that have coordinates")
    unlocated: int = Field(description="matched events skipped for lack of coordinates")
    limit: int


class FeatureCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[Feature]
    meta: CollectionMeta
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last")


class EventList(BaseModel):
    items: list[EventSummary | Event] = Field(  # type: ignore[valid-type]
        description="`EventSummary` items (no evidence spans) by default; whole `Event`s with `evidence=true`")
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last")


class EventDetail(Event):
    """An event with the sentences of its reports that support it."""

    evidence_snippets: list[Snippet] = Field(default_factory=list)


class Mention(BaseModel):
    """One report's telling of an event, and why it joined the merged event."""

    report_id: str
    reason: str
    event: Event


class ReportDetail(Report):
    event_ids: list[str] = Field(default_factory=list, description="the stored events this report is part of")
    tallies: list[Tally] = Field(default_factory=list, description="running counts it gives: claims, not events")


def _no_nul(value: str | None) -> str | None:
    if value is not None and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


class ReportIn(BaseModel):
    """A report to ingest. Only `text` is required; without `published` the latest date
    the text states is taken (and flagged as inferred)."""

    model_config = ConfigDict(strict=True, extra="ignore")

    text: str = Field(min_length=1, description="the report's text, as published")
    title: str | None = Field(default=None, max_length=2000)
    url: str | None = Field(default=None, max_length=4000)
    outlet: str | None = Field(default=None, max_length=500)
    published: date | None = Field(default=None, description="publication date, YYYY-MM-DD")

    @field_validator("text", "title", "url", "outlet")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        return _no_nul(value)

    @field_validator("text")
    @classmethod
    def _has_words(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must contain more than whitespace")
        return value


class ReportCreated(BaseModel):
    report_id: str
    event_ids: list[str] = Field(description="the stored events the report is part of (merged or new)")
    created: bool = Field(description="false when the same report was already stored (nothing changed)")


class Stats(BaseModel):
    reports: int
    events: int


class HistogramBucket(BaseModel):
    period: date = Field(description="first day of the day, ISO week (Monday) or month")
    events: int
    fatalities: int


class Histogram(BaseModel):
    interval: Literal["day", "week", "month"]
    buckets: list[HistogramBucket]


class PlaceControl(BaseModel):
    """The control timeline of one place: periods oldest first, each with its claims."""

    place_key: str
    place: str
    latitude: float | None = None
    longitude: float | None = None
    country: str = ""
    admin1: str = ""
    periods: list[Period]


class ControlTimelines(BaseModel):
    query: str
    places: list[PlaceControl] = Field(description="every known place whose name contains the query")


class ControlProperties(BaseModel):
    place: str
    place_key: str
    latitude: float | None = None
    longitude: float | None = None
    admin1: str = ""
    country: str = ""
    side: str = Field(description='the holder that day: government, opposition, ... or "contested"')
    since: date
    precision: int
    reports: list[str]


class ControlFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: str
    geometry: PointGeometry
    properties: ControlProperties


class ControlMap(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    date: date
    features: list[ControlFeature]


HealthAttackRow = create_model(  # the register's columns (see export.HEALTH_COLUMNS)
    "HealthAttackRow",
    __doc__="One attack on health care in the terms of WHO's SSA, with the event it comes from.",
    event_id=(str, ...), event_date=(date, ...), time_precision=(int, ...), country=(str, ""), admin1=(str, ""),
    location=(str, ""), latitude=(float | None, None), longitude=(float | None, None), attack_type=(str, ...),
    facility_types=(str, ""), resources_affected=(str, ""), facility_damage=(str, ""),
    health_workers_killed=(int | None, None), health_workers_injured=(int | None, None),
    patients_killed=(int | None, None), patients_injured=(int | None, None), perpetrator=(str, ""),
    perpetrator_named=(bool, False), independent_sources=(int, 1), certainty=(str, ""), sources=(str, ""),
    claims=(str, ""), report_ids=(str, ""),
)
assert set(HealthAttackRow.model_fields) == set(exporter.HEALTH_COLUMNS)


class HealthAttackList(BaseModel):
    items: list[HealthAttackRow]  # type: ignore[valid-type]
    next_cursor: str | None


class HealthFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: str
    geometry: PointGeometry
    properties: HealthAttackRow  # type: ignore[valid-type]


class HealthCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[HealthFeature]
    next_cursor: str | None


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


def summary_feature(summary: str) -> dict[str, Any] | None:
    """A stored event summary (JSON, `store.event_summary`) as a GeoJSON Point feature without
    evidence snippets, or None without coordinates. Built from the JSON, not the model: a map
    page holds thousands of these."""
    data = json.loads(summary)
    latitude, longitude = data.get("latitude"), data.get("longitude")
    if latitude is None or longitude is None:
        return None
    properties = {"event_id": data["event_id_cnty"]}
    for name, default in FEATURE_FIELDS.items():
        properties[name] = data.get(name, default)
    return {"type": "Feature", "id": data["event_id_cnty"],
            "geometry": {"type": "Point", "coordinates": [longitude, latitude]}, "properties": properties}


def holders_on(timelines: dict[str, list[Period]], day: date) -> list[ControlProperties]:
    """Every place with a known holder on `day` (as `kharita control --date`)."""
    rows = []
    for key, period in control_rules.holders_on(timelines, day):
        first = period.claims[0]
        rows.append(ControlProperties(
            place=first.place, place_key=key, latitude=first.latitude, longitude=first.longitude,
            admin1=first.admin1, country=first.country, side=period.side, since=period.start,
            precision=period.precision, reports=sorted({c.report_id for c in period.claims})))
    return rows


# -- query parameters ----------------------------------------------------------

# Patterns the spec states and the parsers below enforce (with messages of their own).
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
OPTIONAL_DATE_PATTERN = r"^(\d{4}-\d{2}-\d{2})?$"  # empty: no filter
_NUMBER = r"-?\d{1,3}(\.\d+)?"
BBOX_PATTERN = rf"^({_NUMBER},{_NUMBER},{_NUMBER},{_NUMBER})?$"
_ISO_DATE = re.compile(DATE_PATTERN)
_BBOX_NUMBER = re.compile(_NUMBER)
SortOrder = Literal["event_date", "-event_date", "fatalities", "-fatalities"]
MAX_FATALITIES = 2**31 - 1  # a SQL integer
MAX_RADIUS_KM = 20_050  # half the Earth's circumference: everywhere


def _parse_date(name: str, value: str | None) -> date | None:
    if value is None or value == "":
        return None
    try:
        if not _ISO_DATE.fullmatch(value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise invalid("query", name, f"{name} must be a calendar date written YYYY-MM-DD, got {value!r}",
                      "date_parsing") from None


def parse_bbox(value: str | None) -> tuple[float, float, float, float] | None:
    """`min_lon,min_lat,max_lon,max_lat` in degrees, or None when not given."""
    if value is None or value == "":
        return None
    parts = value.split(",")
    if len(parts) != 4:
        raise invalid("query", "bbox", f"bbox must be four numbers min_lon,min_lat,max_lon,max_lat; got {len(parts)}")
    if not all(_BBOX_NUMBER.fullmatch(p) for p in parts):
        raise invalid("query", "bbox", "bbox must be four numbers min_lon,min_lat,max_lon,max_lat, "
                      "written like -12.5")
    numbers = [float(p) for p in parts]
    min_lon, min_lat, max_lon, max_lat = numbers
    if not (-180 <= min_lon <= 180 and -180 <= max_lon <= 180):
        raise invalid("query", "bbox", "bbox longitudes must be between -180 and 180")
    if not (-90 <= min_lat <= 90 and -90 <= max_lat <= 90):
        raise invalid("query", "bbox", "bbox latitudes must be between -90 and 90")
    if min_lat > max_lat:
        raise invalid("query", "bbox", f"bbox min_lat ({min_lat:g}) is greater than max_lat ({max_lat:g})")
    # min_lon > max_lon is a box across the antimeridian (RFC 7946, 5.2): the store splits it.
    return min_lon, min_lat, max_lon, max_lat


def _text(description: str, **extra: Any) -> Any:
    return Field(None, max_length=MAX_FILTER_CHARS, pattern=PRINTABLE, description=description, **extra)


def _nonempty(value: str | None) -> str | None:
    return value or None


class EventQuery(BaseModel):
    """The event filters, as query parameters. Validated in one pydantic pass rather than
    parameter by parameter (this is the hot path); `query_parameters` documents them."""

    model_config = ConfigDict(extra="ignore")

    date_from: str | None = Field(None, description="first day, YYYY-MM-DD", examples=["2024-01-31"],
                                  json_schema_extra={"pattern": OPTIONAL_DATE_PATTERN})
    date_to: str | None = Field(None, description="last day, YYYY-MM-DD (inclusive)",
                                json_schema_extra={"pattern": OPTIONAL_DATE_PATTERN})
    event_type: str | None = _text("ACLED event type, e.g. Battles (case-insensitive)")
    sub_event_type: str | None = _text("ACLED sub-event type, e.g. Air/drone strike")
    actor: str | None = _text("part of actor1, actor2 or an associated actor's name")
    side: str | None = _text("the side actor1 or actor2 fights on: government, opposition, ...")
    country: str | None = _text("country name")
    admin1: str | None = _text("first-level administrative unit (governorate, province)")
    q: str | None = _text("text search in the location, actors and notes")
    fatalities_min: int | None = Field(None, ge=0, le=MAX_FATALITIES)
    fatalities_max: int | None = Field(None, ge=0, le=MAX_FATALITIES)
    bbox: str | None = Field(None, max_length=MAX_FILTER_CHARS, examples=["35.5,34.5,38.0,37.0"],
                             description="min_lon,min_lat,max_lon,max_lat in decimal degrees; "
                             "min_lon > max_lon crosses the antimeridian",
                             json_schema_extra={"pattern": BBOX_PATTERN})
    lat: float | None = Field(None, ge=-90, le=90, allow_inf_nan=False,
                              description="with lon and radius_km: events near a point")
    lon: float | None = Field(None, ge=-180, le=180, allow_inf_nan=False)
    radius_km: float | None = Field(None, gt=0, le=MAX_RADIUS_KM, allow_inf_nan=False)
    type_: str | None = _text("old name of event_type (matches a type or sub-event type)", alias="type",
                              json_schema_extra={"deprecated": True})
    place: str | None = _text("part of the location, admin1 or country name", json_schema_extra={"deprecated": True})

    def to_filter(self) -> EventFilter:
        first, last = _parse_date("date_from", self.date_from), _parse_date("date_to", self.date_to)
        if first and last and first > last:
            raise invalid("query", "date_from", f"date_from ({first}) is after date_to ({last})", "date_range")
        low, high = self.fatalities_min, self.fatalities_max
        if low is not None and high is not None and low > high:
            raise invalid("query", "fatalities_min", f"fatalities_min ({low}) is more than fatalities_max ({high})",
                          "range")
        near = (self.lat, self.lon, self.radius_km)
        given = [v is not None for v in near]
        if any(given) and not all(given):
            raise invalid("query", "radius_km", "lat, lon and radius_km go together: give all three or none",
                          "missing")
        return EventFilter(
            date_from=first, date_to=last, event_type=_nonempty(self.event_type) or _nonempty(self.type_),
            sub_event_type=_nonempty(self.sub_event_type), place=_nonempty(self.place), actor=_nonempty(self.actor),
            side=_nonempty(self.side), country=_nonempty(self.country), admin1=_nonempty(self.admin1),
            text=_nonempty(self.q), fatalities_min=low, fatalities_max=high, bbox=parse_bbox(self.bbox),
            near=near if all(given) else None,  # type: ignore[arg-type]
        )


class PageQuery(EventQuery):
    """The event filters with the sort order and the page."""

    sort: SortOrder = Field("event_date", description="order; a leading - is descending")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"page size, at most {MAX_LIMIT}")
    cursor: str | None = Field(None, max_length=MAX_CURSOR_CHARS, pattern=PRINTABLE,
                               description="next_cursor of the previous page, with the same filters and sort")

    def to_filter(self) -> EventFilter:
        flt = super().to_filter()
        flt.sort, flt.limit, flt.cursor = self.sort, self.limit, self.cursor or None
        return flt


class ListQuery(PageQuery):
    """The page of events, and whether its events come with their evidence."""

    evidence: bool = Field(False, description="true: each event with its evidence (JSON: the `evidence` spans of "
                           "the event, its claims and health record; GeoJSON: `evidence_snippets`), several "
                           "times larger and slower; by default lists leave it out (`/api/events/{event_id}` "
                           "gives one event with it)")


def parse_query(model: type[EventQuery], request: Request) -> EventQuery:
    try:
        return model.model_validate(dict(request.query_params))
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("query", *e["loc"])}
                                      for e in exc.errors(include_url=False, include_input=False)]) from None


def query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """OpenAPI parameter objects for a query model's fields."""
    schema = model.model_json_schema(by_alias=True)
    parameters = []
    for name, prop in schema["properties"].items():
        prop = dict(prop)
        entry: dict[str, Any] = {"name": name, "in": "query", "required": name in schema.get("required", ())}
        for key in ("description", "deprecated"):
            if key in prop:
                entry[key] = prop.pop(key)
        entry["schema"] = prop
        parameters.append(entry)
    return parameters


# `async` dependencies only so that FastAPI calls them in the event loop rather than in its
# thread pool: they compute, never wait.
async def event_filter(request: Request) -> EventFilter:
    return parse_query(EventQuery, request).to_filter()


async def paged_filter(request: Request) -> EventFilter:
    return parse_query(PageQuery, request).to_filter()


Filter = Annotated[EventFilter, Depends(event_filter)]
PagedFilter = Annotated[EventFilter, Depends(paged_filter)]
FILTER_PARAMETERS = {"parameters": query_parameters(EventQuery)}
PAGE_PARAMETERS = {"parameters": query_parameters(PageQuery)}
LIST_PARAMETERS = {"parameters": query_parameters(ListQuery)}
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(HTTPBearer(
    auto_error=False, description="the token given to `kharita serve` (--token-file or $KHARITA_API_TOKEN)"))]
EventId = Annotated[str, PathParam(max_length=MAX_ID_CHARS, pattern=PRINTABLE)]
ReportId = Annotated[str, PathParam(max_length=MAX_ID_CHARS, pattern=PRINTABLE)]


# -- the app -------------------------------------------------------------------

class GeoJSONResponse(JSONResponse):
    media_type = GEOJSON_MEDIA_TYPE


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Documented problem responses (their content is set by `_openapi`)."""
    reasons = {
        400: "malformed request: bad JSON, a bad Content-Length, or a cursor this query did not issue",
        401: "no bearer token, or a wrong one: nothing was changed",
        403: "writing is disabled: the server has no API token configured",
        404: "no such record",
        413: "the request body is over the server's limit",
        415: "the body is neither application/json nor text/plain",
        422: "a parameter or field is invalid (each one listed in `errors`)",
    }
    return {status: {"description": reasons[status]} for status in statuses}


EXPORT_MEDIA_TYPES = {
    "acled-csv": ("text/csv", "csv"),  # Starlette adds the charset
    "geojson": (GEOJSON_MEDIA_TYPE, "geojson"),
    "parquet": ("application/vnd.apache.parquet", "parquet"),
}
API_ORIGIN = "POST /api/reports"


def create_app(store: Store, settings: ApiSettings | None = None) -> FastAPI:
    """The API and map page over `store`; writes only with `settings.token`."""
    settings = settings or ApiSettings()
    app = FastAPI(
        title="Kharita",
        description=(
            "Conflict events coded from news reports, ACLED-compatible, each field backed by "
            "evidence spans of the reports. Dates are YYYY-MM-DD. Lists are paged by cursor: pass "
            "`next_cursor` back as `cursor` with the same filters. Errors are RFC 9457 problems. "
            "Report text is returned verbatim and must be treated as untrusted by clients. "
            "POST /api/reports needs `Authorization: Bearer <token>`."
        ),
        version=_pkg_version,
        # FastAPI's interactive docs pages load their scripts from a CDN; Kharita runs
        # offline, so only the machine-readable /openapi.json is served.
        docs_url=None,
        redoc_url=None,
    )
    app.state.store = store
    app.state.settings = settings

    # -- errors ------------------------------------------------------------
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return problem_response(exc.status, exc.detail, exc.errors, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404 and detail == "Not Found":
            detail = "nothing here: see /openapi.json for the API's paths"
        elif exc.status_code == 405:
            detail = f"{request.method} is not allowed here"
        return problem_response(exc.status_code, detail, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": [str(part) if not isinstance(part, int) else part for part in e.get("loc", ())],
                   "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()]
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:3])
        return problem_response(422, detail or "invalid request", errors)

    @app.exception_handler(Exception)
    async def _server_error(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return problem_response(500, "internal server error")

    # -- helpers over the store ---------------------------------------------
    def page_of(flt: EventFilter, raw: bool = False, evidence: bool = True):
        try:
            return store.events_page(flt, raw=raw, evidence=evidence)
        except ValueError as exc:
            if flt.cursor is None:
                raise
            raise ApiError(400, f"the cursor is not valid for this query ({exc}); start again without it") from None

    def all_events(flt: EventFilter) -> Iterator[Event]:
        return store.iter_events(dataclasses.replace(flt, limit=None, cursor=None), page_size=EXPORT_PAGE)

    def report_lookup() -> Callable[[str], Report | None]:
        cache: dict[str, Report | None] = {}

        def report(report_id: str) -> Report | None:
            if report_id not in cache:
                cache[report_id] = store.report(report_id)
            return cache[report_id]
        return report

    def event_ids_of(report_id: str) -> list[str]:
        table = event_reports_table
        with store.engine.connect() as conn:
            return list(conn.execute(select(table.c.event_id).where(table.c.report_id == report_id)
                                     .order_by(table.c.event_id)).scalars())

    def require_token(credentials: BearerCredentials) -> None:
        if settings.token is None:
            raise ApiError(403, "writing is disabled: this server has no API token configured "
                           "(set $KHARITA_API_TOKEN or start it with `kharita serve --token-file FILE`)")
        if credentials is None:
            raise ApiError(401, "this endpoint needs an `Authorization: Bearer <token>` header",
                           headers={"WWW-Authenticate": "Bearer"})
        if not hmac.compare_digest(credentials.credentials.encode(), settings.token.encode()):
            raise ApiError(401, "the bearer token is not valid",
                           headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})

    ingest_lock = threading.Lock()  # one pipeline run at a time: it is CPU-bound, and SQLite has one writer
    pipelines: list[Any] = []

    def ingest(report: Report) -> ReportCreated:
        from sqlalchemy.exc import IntegrityError

        with ingest_lock:
            created = False
            if not store.has_report(report.id):
                if not pipelines:
                    # Imported (and the gazetteer loaded) only once a report comes.
                    from .pipeline import Pipeline

                    pipelines.append(Pipeline())
                doc = pipelines[0].annotate(report)
                try:
                    created = store.add(report, doc.events, doc.control, tallies=doc.tallies)
                except IntegrityError:  # another worker stored the same report just now
                    created = False
            return ReportCreated(report_id=report.id, event_ids=event_ids_of(report.id), created=created)

    # -- events --------------------------------------------------------------
    @app.get("/api/events", response_model=EventList, responses=_errors(400, 422), tags=["events"],
             summary="Events, filtered, sorted and paged (without evidence unless evidence=true)",
             openapi_extra=LIST_PARAMETERS)
    async def list_events(request: Request) -> Response:
        # The filter is parsed here rather than by a dependency (the parameters are documented
        # by LIST_PARAMETERS either way): FastAPI's dependency resolution cost as much as the
        # rest of the route. A page of up to INLINE_PAGE_LIMIT events is read in the event loop:
        # that query takes about a millisecond, less than handing it to a thread costs. Larger
        # pages go to the thread pool so as not to hold up the worker's other requests.
        query = parse_query(ListQuery, request)
        flt = query.to_filter()
        if flt.limit is not None and flt.limit <= INLINE_PAGE_LIMIT:
            page = page_of(flt, True, query.evidence)
        else:
            page = await run_in_threadpool(page_of, flt, True, query.evidence)
        # The stored records (or summaries) are `Event` JSON already: joined, not parsed and re-serialised.
        body = '{"items":[' + ",".join(page.items) + '],"next_cursor":' + json.dumps(page.next_cursor) + "}"
        return Response(body, media_type="application/json")

    @app.get("/api/events.geojson", response_model=FeatureCollection, response_class=GeoJSONResponse,
             responses=_errors(400, 422), tags=["events"], openapi_extra=LIST_PARAMETERS,
             summary="A page of events as GeoJSON (located ones); evidence snippets with evidence=true")
    def events_geojson(request: Request) -> GeoJSONResponse:
        query = parse_query(ListQuery, request)
        flt = query.to_filter()
        limit = flt.limit or DEFAULT_LIMIT
        if not query.evidence:  # the map's pages: features straight from the stored summaries
            page = page_of(flt, raw=True, evidence=False)
            features = [f for f in map(summary_feature, page.items) if f is not None]
            meta = {"matched": len(page.items), "mapped": len(features),
                    "unlocated": len(page.items) - len(features), "limit": limit}
            return GeoJSONResponse({"type": "FeatureCollection", "features": features, "meta": meta,
                                    "next_cursor": page.next_cursor})
        page = page_of(flt)
        report = report_lookup()
        features = [f for f in (event_feature(e, report) for e in page.items) if f is not None]
        collection = FeatureCollection(
            features=features,
            meta=CollectionMeta(matched=len(page.items), mapped=len(features),
                                unlocated=len(page.items) - len(features), limit=limit),
            next_cursor=page.next_cursor,
        )
        return GeoJSONResponse(collection.model_dump(mode="json"))

    @app.get("/api/events/{event_id}", response_model=EventDetail, responses=_errors(404, 422), tags=["events"],
             summary="One event with its evidence snippets and claims")
    def get_event(event_id: EventId) -> JSONResponse:
        event = store.event(event_id)
        if event is None:
            raise ApiError(404, f"no event {event_id!r}")
        data = event.model_dump(mode="json")
        data["evidence_snippets"] = [s.model_dump(mode="json") for s in evidence_snippets(event, report_lookup())]
        return JSONResponse(data)

    @app.get("/api/events/{event_id}/mentions", response_model=list[Mention], responses=_errors(404, 422),
             tags=["events"], summary="Each report's telling of the event, and why it was merged")
    def get_mentions(event_id: EventId) -> JSONResponse:
        if store.event(event_id) is None:
            raise ApiError(404, f"no event {event_id!r}")
        return JSONResponse([{"report_id": m.report_ids[0] if m.report_ids else "", "reason": reason,
                              "event": m.model_dump(mode="json")} for m, reason in store.mentions(event_id)])

    @app.get("/api/histogram", response_model=Histogram, responses=_errors(422), tags=["events"],
             summary="Events and fatalities per day, week or month", openapi_extra=FILTER_PARAMETERS)
    def histogram(flt: Filter, interval: Literal["day", "week", "month"] = "day") -> dict[str, Any]:
        buckets = [{"period": period, "events": events, "fatalities": fatalities}
                   for period, events, fatalities in store.histogram(flt, interval)]
        return {"interval": interval, "buckets": buckets}

    @app.get("/api/export", response_class=Response, tags=["events"], summary="Every matching event, as a file",
             openapi_extra=FILTER_PARAMETERS,
             responses={200: {"description": "a download (Content-Disposition: attachment)", "content": {
                 "text/csv": {"schema": {"type": "string", "description": "ACLED's columns in ACLED's order"}},
                 GEOJSON_MEDIA_TYPE: {"schema": {"type": "object", "description": "a FeatureCollection whose "
                                                 "properties are the `Event` fields"}},
                 "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}}}},
                 **_errors(422)})
    def export(
        flt: Filter,
        format: Annotated[Literal["acled-csv", "geojson", "parquet"], Query()],
        sort: Annotated[SortOrder, Query()] = "event_date",
    ) -> FileResponse:
        flt.sort = sort
        media_type, suffix = EXPORT_MEDIA_TYPES[format]
        handle, name = tempfile.mkstemp(prefix="kharita-export-", suffix=f".{suffix}")
        os.close(handle)
        try:
            exporter.write(all_events(flt), format, name)  # type: ignore[arg-type] - any iterable
        except BaseException:
            os.unlink(name)
            raise
        return FileResponse(name, media_type=media_type, filename=f"kharita-events.{suffix}",
                            background=BackgroundTask(os.unlink, name))

    # -- reports -------------------------------------------------------------
    @app.post(
        "/api/reports", status_code=201, response_model=ReportCreated, tags=["reports"],
        summary="Ingest one report: extract its events and store both",
        dependencies=[Depends(require_token)],
        responses={200: {"model": ReportCreated, "description": "already stored: nothing changed"},
                   **_errors(400, 401, 403, 413, 415, 422)},
        openapi_extra={"requestBody": {"required": True, "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/ReportIn"}},
            "text/plain": {"schema": {"type": "string", "minLength": 1,
                                      "description": "the report's text; a short first line is its title"}},
        }}},
    )
    async def post_report(request: Request) -> JSONResponse:
        from .ingest.common import (
            Draft,
            RejectInput,
            clean_field,
            finish,
            normalise_newlines,
        )
        from .ingest.text import parse_text

        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        is_json = media_type == "application/json" or (media_type.startswith("application/")
                                                       and media_type.endswith("+json"))
        if not is_json and media_type != "text/plain":
            raise ApiError(415, 'send the report as application/json ({"text": "..."}) or as text/plain')
        body = await request.body()
        if is_json:
            try:
                given = ReportIn.model_validate_json(body)
            except ValidationError as exc:
                errors = exc.errors(include_url=False, include_input=False)
                if any(e["type"] == "json_invalid" for e in errors):
                    raise ApiError(400, f"the body is not valid JSON: {errors[0]['msg']}") from None
                raise ApiError(422, "; ".join(f"{'.'.join(map(str, ['body', *e['loc']]))}: {e['msg']}"
                                              for e in errors[:3]),
                               errors=[{"loc": ["body", *e["loc"]], "msg": e["msg"], "type": e["type"]}
                                       for e in errors]) from None
            draft = Draft(text=normalise_newlines(given.text), origin=API_ORIGIN, title=clean_field(given.title),
                          url=clean_field(given.url), outlet=clean_field(given.outlet), published=given.published)
        else:
            try:
                draft = parse_text(body, API_ORIGIN)[0]
            except RejectInput as exc:
                raise ApiError(422, f"body: {exc.reason}",
                               errors=[{"loc": ["body"], "msg": exc.reason, "type": "value_error"}]) from None
        report = finish(draft, None, None)
        result = await run_in_threadpool(ingest, report)
        return JSONResponse(result.model_dump(), status_code=201 if result.created else 200,
                            headers={"Location": f"/api/reports/{report.id}"})

    @app.get("/api/reports/{report_id}", response_model=ReportDetail, responses=_errors(404, 422),
             tags=["reports"], summary="One report, with the events it is part of")
    def get_report(report_id: ReportId) -> JSONResponse:
        report = store.report(report_id)
        if report is None:
            raise ApiError(404, f"no report {report_id!r}")
        tallies = [tally.model_dump(mode="json") for _, tally in store.tallies(report_id)]
        return JSONResponse({**report.model_dump(mode="json"), "event_ids": event_ids_of(report_id),
                             "tallies": tallies})

    # -- control, health care, stats ----------------------------------------
    @app.get("/api/places/{place}/control", response_model=ControlTimelines, responses=_errors(404, 422),
             tags=["control"], summary="Who held a place when, with the claims saying so")
    def place_control(
        place: Annotated[str, PathParam(min_length=1, max_length=MAX_FILTER_CHARS, pattern=PRINTABLE,
                                        description="a place name, or part of one")],
    ) -> JSONResponse:
        timelines = control_rules.timelines(store.control_claims(place))
        if not timelines:
            raise ApiError(404, f"no control claims about a place named like {place!r}")
        places = []
        for key, periods in timelines.items():
            first = periods[0].claims[0]
            places.append(PlaceControl(place_key=key, place=first.place, latitude=first.latitude,
                                       longitude=first.longitude, country=first.country, admin1=first.admin1,
                                       periods=periods))
        return JSONResponse(ControlTimelines(query=place, places=places).model_dump(mode="json"))

    @app.get("/api/control", response_model=ControlMap, response_class=GeoJSONResponse, responses=_errors(422),
             tags=["control"], summary="Every known place with the side holding it on a day")
    def control_map(
        day: Annotated[str, Query(alias="date", description="the day, YYYY-MM-DD",
                                  json_schema_extra={"pattern": DATE_PATTERN})],
    ) -> GeoJSONResponse:
        when = _parse_date("date", day)
        if when is None:
            raise invalid("query", "date", "date is required, YYYY-MM-DD", "missing")
        rows = holders_on(control_rules.timelines(store.control_claims()), when)
        features = [ControlFeature(id=r.place_key, geometry=PointGeometry(coordinates=(r.longitude, r.latitude)),
                                   properties=r)
                    for r in rows if r.latitude is not None and r.longitude is not None]
        return GeoJSONResponse(ControlMap(date=when, features=features).model_dump(mode="json"))

    @app.get("/api/health-attacks", response_model=HealthAttackList, tags=["health care"],
             openapi_extra=PAGE_PARAMETERS,
             summary="The register of attacks on health care (WHO SSA fields), as JSON or GeoJSON",
             responses={200: {"content": {GEOJSON_MEDIA_TYPE: {
                 "schema": {"$ref": "#/components/schemas/HealthCollection"}}}}, **_errors(400, 422)})
    def health_attacks(
        flt: PagedFilter,
        format: Literal["json", "geojson"] = "json",
    ) -> JSONResponse:
        flt.health_attacks = True
        page = page_of(flt, evidence=False)  # the register needs no evidence spans
        rows = [exporter.health_row(e) for e in page.items if e.health is not None]
        if format == "json":
            return JSONResponse(HealthAttackList(items=rows, next_cursor=page.next_cursor).model_dump(mode="json"))
        features = [{"type": "Feature", "id": row["event_id"],
                     "geometry": {"type": "Point", "coordinates": [row["longitude"], row["latitude"]]},
                     "properties": row} for row in rows if row["latitude"] is not None]
        collection = HealthCollection(features=features, next_cursor=page.next_cursor)
        return GeoJSONResponse(collection.model_dump(mode="json"))

    @app.get("/api/stats", response_model=Stats, tags=["store"], summary="How many reports and events are stored")
    def stats() -> dict[str, int]:
        return store.counts()

    @app.get("/api/config", response_model=MapConfig, tags=["store"], summary="What the map page may load")
    def config() -> MapConfig:
        return MapConfig(tiles=settings.tiles, tiles_attribution=settings.tiles_attribution)

    # -- the page -------------------------------------------------------------
    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(
            STATIC_DIR / "index.html",
            media_type="text/html; charset=utf-8",
            headers={
                "Content-Security-Policy": settings.page_csp,
                "Referrer-Policy": "no-referrer",
                "Cache-Control": "no-cache",
            },
        )

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    app.add_middleware(BodyLimit, max_body=settings.max_body)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"], max_age=600)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


# Models the routes reference by hand (a body read by the route, a second media type).
_EXTRA_SCHEMAS = (Problem, ReportIn, HealthCollection)


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's spec, with every error response documented as a problem (RFC 9457)."""
    if app.openapi_schema:
        return app.openapi_schema
    from fastapi.openapi.utils import get_openapi
    from pydantic.json_schema import models_json_schema

    spec = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    _, defs = models_json_schema([(m, "validation") for m in _EXTRA_SCHEMAS],
                                 ref_template="#/components/schemas/{model}")
    for name, schema in defs.get("$defs", {}).items():
        schemas.setdefault(name, schema)
    problem = {"$ref": "#/components/schemas/Problem"}
    for path_item in spec["paths"].values():
        for operation in path_item.values():
            for status, response in operation.get("responses", {}).items():
                if status.startswith(("4", "5")):
                    response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": problem}}
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    app.openapi_schema = spec
    return spec
