"""The `kharita` command line: the Python API, one command per verb.

    kharita ingest PATH... [--published DATE]    reports in, events stored
    kharita watch --feed URL --folder PATH        keep ingesting new items of feeds and folders
    kharita events [filters] [--format table|json]
    kharita events show ID | split ID --report R  one event and its reports; undo a wrong merge
    kharita control PLACE | --date D              who held which place when
    kharita health                                the register of attacks on health care
    kharita export --format acled-csv|geojson|parquet -o FILE [filters]
    kharita serve                                 the map and JSON API on 127.0.0.1
    kharita gazetteer import|info|build           user gazetteers (GeoNames dumps, CSV lists)
    kharita eval case2021|fakes|merge|geoparse    measure on public benchmarks
    kharita spark run --input P --output P        backfills on Apache Spark (kharita/spark/job.py)
"""
from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from . import export as exporter
from .console import console, errors
from .store import EventFilter, Store, default_db_path

app = typer.Typer(help="Kharita: conflict news into evidence-backed, ACLED-compatible events.",
                  no_args_is_help=True, add_completion=False)

# A string, not a Path: a Path would fold the "//" of postgresql+psycopg://user:pw@host/db.
DbOption = Annotated[Optional[str], typer.Option(
    "--db", help="SQLite file or database URL (default: $KHARITA_DB or ./kharita.db).")]
FromOption = Annotated[Optional[str], typer.Option("--from", help="First event date, YYYY-MM-DD.")]
ToOption = Annotated[Optional[str], typer.Option("--to", help="Last event date, YYYY-MM-DD.")]
TypeOption = Annotated[Optional[str], typer.Option("--type", help="Event type or sub-event type.")]
PlaceOption = Annotated[Optional[str], typer.Option("--place", help="Part of the location, admin1 or country.")]
ActorOption = Annotated[Optional[str], typer.Option("--actor", help="Part of an actor's name.")]


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date in the form YYYY-MM-DD", param_hint=option) from None


def _store(db: str | None) -> Store:
    return Store(db or default_db_path())


def _filter(date_from, date_to, event_type, place, actor, limit=None) -> EventFilter:
    return EventFilter(date_from=_date(date_from, "--from"), date_to=_date(date_to, "--to"),
                       event_type=event_type, place=place, actor=actor, limit=limit)


INGEST_BATCH = 50


@app.command()
def ingest(
    paths: Annotated[list[str], typer.Argument(help="Files or directories of reports; - reads standard input.")],
    published: Annotated[Optional[str], typer.Option(help="Publication date (YYYY-MM-DD) for reports without one.")] = None,
    outlet: Annotated[Optional[str], typer.Option(help="Outlet name for reports without one.")] = None,
    db: DbOption = None,
) -> None:
    """Read reports (text, HTML, RSS/Atom, JSON lines), extract their events, store both."""
    from .ingest import Rejected, read_paths
    from .pipeline import Pipeline

    published_date = _date(published, "--published")
    store = _store(db)
    pipeline = Pipeline()
    new = unchanged = event_count = 0
    rejected: list = []
    progress = Progress(TextColumn("[bold]ingest"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
                        TimeElapsedColumn(), console=errors, transient=True, disable=not errors.is_terminal)
    # Reports are written INGEST_BATCH at a time, each batch one transaction: a crash loses
    # at most the batch being written, which the next run ingests again.
    pending: list = []

    def flush() -> None:
        nonlocal new, unchanged, event_count
        for (_, events, *_), created in zip(pending, store.add_many(pending)):
            new += created
            unchanged += not created
            event_count += len(events) if created else 0
        pending.clear()

    with progress:
        task = progress.add_task("", total=None)
        for item in read_paths(paths, published=published_date, outlet=outlet):
            progress.advance(task)
            if isinstance(item, Rejected):
                rejected.append(item)
                errors.print(f"[red]rejected[/red] {item.origin}: {item.reason}", highlight=False, markup=True)
                continue
            progress.update(task, description=(item.title or item.origin or item.id)[:50])
            if store.has_report(item.id):
                unchanged += 1
                continue
            doc = pipeline.annotate(item)
            pending.append((item, doc.events, doc.control, doc.tallies))
            if len(pending) >= INGEST_BATCH:
                flush()
        flush()
    console.print(f"{new} new report(s), {event_count} event(s); {unchanged} already stored; "
                  f"{len(rejected)} rejected. Database: {store.url}")
    if rejected:
        raise typer.Exit(code=1)


@app.command()
def watch(
    feed: Annotated[Optional[list[str]], typer.Option("--feed", help="RSS/Atom URL to poll (repeatable).")] = None,
    folder: Annotated[Optional[list[Path]], typer.Option("--folder", help="Folder to watch, recursively (repeatable).")] = None,
    every: Annotated[float, typer.Option(help="Seconds between rounds.")] = 300.0,
    once: Annotated[bool, typer.Option("--once", help="One round, then exit (for cron); exit code 1 if anything failed.")] = False,
    db: DbOption = None,
    max_bytes: Annotated[Optional[int], typer.Option("--max-bytes", help="Largest feed or file read, in bytes (default 20 MB).")] = None,
) -> None:
    """Poll RSS/Atom feeds and folders; ingest only new or changed items (Ctrl-C stops)."""
    import logging
    import signal
    import time

    from .ingest import MAX_BYTES
    from .watch import Watcher

    if not feed and not folder:
        raise typer.BadParameter("give at least one --feed URL or --folder PATH")
    if every <= 0:
        raise typer.BadParameter("must be more than 0", param_hint="--every")
    if max_bytes is not None and max_bytes <= 0:
        raise typer.BadParameter("must be more than 0", param_hint="--max-bytes")

    class Lines(logging.Handler):  # one unwrapped line per problem, on stderr
        def emit(self, record: logging.LogRecord) -> None:
            errors.print(f"{time.strftime('%H:%M:%S')} {record.getMessage()}", markup=False, highlight=False,
                         soft_wrap=True, style="yellow" if record.levelno >= logging.WARNING else None)

    logger = logging.getLogger("kharita.watch")
    handler = Lines()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    store = _store(db)
    watcher = Watcher(store, feed or [], folder or [], every=every, max_bytes=max_bytes or MAX_BYTES)
    failed = 0

    def status(result) -> None:
        nonlocal failed
        failed = result.failed
        colour = "red" if result.failed else "green" if result.new else "dim"
        console.print(f"{time.strftime('%H:%M:%S')} [{colour}]{result.summary()}[/{colour}]", highlight=False)

    def terminate(signum, frame):  # a service manager's stop is a Ctrl-C
        raise KeyboardInterrupt

    previous = None
    if not once:
        try:
            previous = signal.signal(signal.SIGTERM, terminate)
        except ValueError:  # not the main thread (embedded): Ctrl-C only
            pass
        console.print(f"watching {len(watcher.feeds)} feed(s) and {len(watcher.folders)} folder(s) every {every:g} s "
                      f"into {store.url}; Ctrl-C stops", highlight=False)
    try:
        watcher.run(once=once, on_round=status)
    except KeyboardInterrupt:
        console.print(f"stopped after {watcher.rounds} round(s); nothing half-stored", highlight=False)
        return
    finally:
        logger.removeHandler(handler)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        store.close()
    if once and failed:
        raise typer.Exit(code=1)


events_app = typer.Typer(help="List stored events; show one with its reports; split a wrong merge.")
app.add_typer(events_app, name="events")


@events_app.callback(invoke_without_command=True)
def events(
    ctx: typer.Context,
    date_from: FromOption = None, date_to: ToOption = None, event_type: TypeOption = None,
    place: PlaceOption = None, actor: ActorOption = None,
    limit: Annotated[Optional[int], typer.Option(help="At most this many events.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    db: DbOption = None,
) -> None:
    """List stored events (or: kharita events show ID, kharita events split ID --report R)."""
    if ctx.invoked_subcommand:
        return
    found = _store(db).events(_filter(date_from, date_to, event_type, place, actor, limit))
    if fmt == "json":
        sys.stdout.write(json.dumps([e.model_dump(mode="json") for e in found], ensure_ascii=False, indent=2) + "\n")
        return
    if fmt != "table":
        raise typer.BadParameter("choose table or json", param_hint="--format")
    table = Table(title=f"{len(found)} event(s)", show_lines=False)
    for column in ("id", "date", "tp", "sub-event type", "actor1", "actor2", "location", "admin1", "gp", "fat.",
                   "reports"):
        table.add_column(column, overflow="fold")
    for e in found:
        table.add_row(e.event_id_cnty, e.event_date.isoformat(), str(e.time_precision), e.sub_event_type, e.actor1,
                      e.actor2, e.location, e.admin1, str(e.geo_precision or ""), str(e.fatalities),
                      str(len(e.report_ids)))
    console.print(table)


@events_app.command("show")
def events_show(
    event_id: Annotated[str, typer.Argument(help="The event's id (first column of `kharita events`).")],
    fmt: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
    db: DbOption = None,
) -> None:
    """One event: its fields, its claims with their sources, and each report that joined it and why."""
    store = _store(db)
    event = store.event(event_id)
    if event is None:
        errors.print(f"no event {event_id!r} in {store.url}")
        raise typer.Exit(code=1)
    mentions = store.mentions(event_id)
    if fmt == "json":
        sys.stdout.write(json.dumps({"event": event.model_dump(mode="json"), "mentions": [
            {"report_id": m.report_ids[0], "reason": reason, "event": m.model_dump(mode="json")}
            for m, reason in mentions]}, ensure_ascii=False, indent=2) + "\n")
        return
    console.print(f"[bold]{event.event_id_cnty}[/bold]  {event.sub_event_type} ({event.event_type})", highlight=False)
    fields = Table(show_header=False, box=None)
    for name in ("event_date", "time_precision", "actor1", "assoc_actor_1", "actor2", "location", "admin1",
                 "country", "geo_precision", "fatalities", "injuries", "weapons", "source", "notes"):
        value = getattr(event, name)
        if value not in (None, "", []):
            fields.add_row(name, ", ".join(value) if isinstance(value, list) else str(value))
    console.print(fields)
    if event.claims:
        console.print("[bold]Claims[/bold]")
        for c in event.claims:
            console.print(f"  {c.kind}: {c.value}{' ' + c.victims if c.victims else ''} "
                          f"(according to {c.source or 'the report'})", highlight=False)
    console.print(f"[bold]Reports ({len(mentions)} mention(s))[/bold]")
    for mention, reason in mentions:
        report = store.report(mention.report_ids[0])
        title = (report.title or report.origin or "") if report else ""
        console.print(f"  {mention.report_ids[0]}  {title[:70]}\n    {mention.event_date} {mention.location}: {reason}",
                      highlight=False)


@events_app.command("split")
def events_split(
    event_id: Annotated[str, typer.Argument(help="The merged event.")],
    report: Annotated[str, typer.Option("--report", help="The report whose mentions are a different happening.")],
    db: DbOption = None,
) -> None:
    """Undo a wrong merge: the report's mentions become an event of their own, for good."""
    try:
        new_id = _store(db).split(event_id, report)
    except (KeyError, ValueError) as exc:
        errors.print(str(exc).strip("'\""))
        raise typer.Exit(code=1) from None
    console.print(f"report {report} now in event {new_id}; it will not be merged with {event_id} again")


@app.command()
def export(
    fmt: Annotated[str, typer.Option("--format", help="acled-csv, geojson or parquet.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write.")],
    date_from: FromOption = None, date_to: ToOption = None, event_type: TypeOption = None,
    place: PlaceOption = None, actor: ActorOption = None, db: DbOption = None,
) -> None:
    """Write stored events as ACLED CSV, GeoJSON or Parquet."""
    if fmt not in exporter.FORMATS:
        raise typer.BadParameter(f"choose one of {', '.join(exporter.FORMATS)}", param_hint="--format")
    found = _store(db).iter_events(_filter(date_from, date_to, event_type, place, actor))
    count = exporter.write(found, fmt, output)
    console.print(f"wrote {count} event(s) to {output}")


@app.command("control")
def control_command(
    place: Annotated[Optional[str], typer.Argument(help="A place name, or part of one.")] = None,
    on: Annotated[Optional[str], typer.Option("--date", help="Every known place with its holder that day.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, json or geojson.")] = "table",
    db: DbOption = None,
) -> None:
    """Who held a place when (a timeline), or who held every known place on a date."""
    from . import control

    if place is None and on is None:
        raise typer.BadParameter("give a PLACE, or --date YYYY-MM-DD for every place")
    day = _date(on, "--date")
    timelines = control.timelines(_store(db).control_claims(place))
    if day is not None:
        from .api import holders_on

        rows = [row.model_dump(mode="json") for row in holders_on(timelines, day)]
        if fmt == "geojson":
            features = [{"type": "Feature", "id": r["place_key"],
                         "geometry": {"type": "Point", "coordinates": [r["longitude"], r["latitude"]]},
                         "properties": r} for r in rows if r["latitude"] is not None]
            sys.stdout.write(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False) + "\n")
        elif fmt == "json":
            sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        else:
            table = Table(title=f"held on {day}")
            for column in ("place", "admin1", "side", "since", "tp", "reports"):
                table.add_column(column)
            for r in rows:
                table.add_row(r["place"], r["admin1"], r["side"], r["since"], str(r["precision"]), str(len(r["reports"])))
            console.print(table)
        return
    if fmt == "json":
        sys.stdout.write(json.dumps({key: [p.model_dump(mode="json") for p in periods]
                                     for key, periods in timelines.items()}, ensure_ascii=False, indent=2) + "\n")
        return
    if not timelines:
        console.print(f"no control claims for {place!r}")
        return
    for key, periods in timelines.items():
        console.print(f"[bold]{periods[0].claims[0].place}[/bold] ({key})")
        for period in periods:
            until = f" until {period.end}" if period.end else ""
            console.print(f"  {period.side}: from {period.start} (precision {period.precision}){until}", highlight=False)
            for claim in period.claims:
                quote = " … ".join(span.text for span in claim.evidence)
                console.print(f"    {claim.kind}, report {claim.report_id}: {quote}", highlight=False)


@app.command()
def health(
    fmt: Annotated[str, typer.Option("--format", help="csv or geojson.")] = "csv",
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="File to write (default: print).")] = None,
    date_from: FromOption = None, date_to: ToOption = None, place: PlaceOption = None, db: DbOption = None,
) -> None:
    """The register of attacks on health care (WHO SSA fields), as CSV or GeoJSON."""
    if fmt not in exporter.HEALTH_FORMATS:
        raise typer.BadParameter(f"choose one of {', '.join(exporter.HEALTH_FORMATS)}", param_hint="--format")
    flt = _filter(date_from, date_to, None, place, None)
    flt.health_attacks = True
    found = _store(db).iter_events(flt)
    if output is None:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "health"
            exporter.write_health(found, fmt, path)
            sys.stdout.write(path.read_text(encoding="utf-8"))
        return
    count = exporter.write_health(found, fmt, output)
    console.print(f"wrote {count} attack(s) on health care to {output}")


@app.command()
def tallies(
    report: Annotated[Optional[str], typer.Option("--report", help="Only this report's tallies.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines: report id and tally with evidence.")] = False,
    db: DbOption = None,
) -> None:
    """Running counts the reports make ("a dozen facilities attacked since February 1"): claims, not events."""
    found = _store(db).tallies(report)
    if as_json:
        for report_id, tally in found:
            sys.stdout.write(json.dumps({"report_id": report_id, **tally.model_dump(mode="json")}) + "\n")
        return
    table = Table(title=f"{len(found)} tally(ies)")
    for column in ("report", "since", "count", "what", "places", "source"):
        table.add_column(column)
    for report_id, t in found:
        table.add_row(report_id, t.period or "", f"{'~' if t.approximate else ''}{t.value}", f"{t.unit} {t.verb}".strip(),
                      ", ".join(t.places), t.source or "")
    console.print(table)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind; keep 127.0.0.1 unless you mean to share.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    db: DbOption = None,
    token_file: Annotated[Optional[Path], typer.Option(
        "--token-file", help="File holding the bearer token POST /api/reports requires (else $KHARITA_API_TOKEN; "
        "with neither, writing is disabled).")] = None,
    max_body: Annotated[Optional[int], typer.Option(
        "--max-body", help="Largest request body in bytes (default 1,000,000).")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes; each opens the database.")] = 1,
    cors_origin: Annotated[Optional[list[str]], typer.Option(
        "--cors-origin", help="Let pages from this origin call the API (repeatable); no CORS without it.")] = None,
    tiles: Annotated[Optional[str], typer.Option(
        help="An online tile layer for the map, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png "
             "(default: offline outlines only).")] = None,
    tiles_attribution: Annotated[str, typer.Option(help="Credit line the tile provider asks for.")] = "",
) -> None:
    """Serve the map and the JSON API (reads for all; writes with the token)."""
    import os

    import uvicorn

    from . import api

    if workers < 1:
        raise typer.BadParameter("must be 1 or more", param_hint="--workers")
    # Settings travel as environment variables, so `--workers` processes read the same ones.
    env = {api.ENV_TOKEN_FILE: str(token_file.resolve()) if token_file else None,
           api.ENV_MAX_BODY: str(max_body) if max_body is not None else None,
           api.ENV_CORS_ORIGINS: ",".join(cors_origin) if cors_origin else None,
           api.ENV_TILES: tiles, api.ENV_TILES_ATTRIBUTION: tiles_attribution or None}
    os.environ.update({k: v for k, v in env.items() if v is not None})
    try:
        settings = api.settings_from_env()
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    store = _store(db)
    writes = "POST /api/reports with the bearer token" if settings.token else "read-only: no API token"
    console.print(f"Kharita map on http://{host}:{port}/  (database {store.url}; {writes}; Ctrl-C stops)",
                  highlight=False)
    if host not in ("127.0.0.1", "localhost", "::1"):
        errors.print(f"serving on {host}: anyone who can reach it can read the events", highlight=False)
    if workers == 1:
        # No access log: at log level warning it is never shown, yet each request would still format it.
        uvicorn.run(api.create_app(store, settings), host=host, port=port, log_level="warning", access_log=False)
        return
    store.close()
    os.environ["KHARITA_DB"] = str(db) if db else default_db_path()  # (store.url hides the password)
    uvicorn.run("kharita.api:app_from_env", factory=True, workers=workers, host=host, port=port,
                log_level="warning", access_log=False)


db_app = typer.Typer(help="The database's schema: upgrade it, say where it stands.", no_args_is_help=True)
app.add_typer(db_app, name="db")


def _describe(state) -> str:
    where = f"{state.revision or 'no revision'} (schema version {state.schema_version or '-'})"
    extra = ", PostGIS" if state.postgis else ""
    return f"{state.url} ({state.dialect}{extra}): {where}; newest {state.head}"


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Upgrade the schema to this Kharita's newest revision (opening a database does it too)."""
    from .store import SchemaError, database_state

    try:
        old = database_state(db)
        before = old.revision or (f"schema version {old.schema_version}" if old.schema_version else None)
    except FileNotFoundError:
        before = None  # a new SQLite file: created at the newest revision
    try:
        Store(db or default_db_path()).close()
    except SchemaError as exc:
        errors.print(str(exc), highlight=False)
        raise typer.Exit(1) from None
    state = database_state(db)
    change = "already at the newest revision" if before == state.revision else f"upgraded from {before or 'nothing'}"
    console.print(f"{_describe(state)}: {change}", highlight=False)


@db_app.command("current")
def db_current(db: DbOption = None) -> None:
    """Show the database's schema revision, without changing it; exit 1 when it needs an upgrade."""
    from .store import database_state

    try:
        state = database_state(db)
    except FileNotFoundError as exc:
        errors.print(str(exc), highlight=False)
        raise typer.Exit(1) from None
    console.print(_describe(state), highlight=False)
    if not state.up_to_date:
        errors.print("run `kharita db upgrade` (or open it with this Kharita) to upgrade it", highlight=False)
        raise typer.Exit(1)


def _register_subcommands() -> None:
    from .evaluation import app as eval_app
    from .gazetteer_cli import app as gazetteer_app

    app.add_typer(eval_app, name="eval")
    app.add_typer(gazetteer_app, name="gazetteer")
    from .spark.cli import app as spark_app  # imports pyspark only when a backfill runs

    app.add_typer(spark_app, name="spark")


_register_subcommands()


if __name__ == "__main__":
    app()
