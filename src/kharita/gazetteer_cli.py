"""`kharita gazetteer ...`: import places into the user index, show the indexes, rebuild the default one.

    kharita gazetteer import SY.zip [--classes P,A,S] [--admin1 F] [--admin2 F] [--into PATH]
    kharita gazetteer import --csv my-places.csv [--into PATH]
    kharita gazetteer info
    kharita gazetteer build
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from .console import console, errors

app = typer.Typer(help="The gazetteer: import GeoNames dumps or your own places, show the indexes, rebuild.",
                  no_args_is_help=True)


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(
        help="A GeoNames dump (allCountries.zip, a country zip such as SY.zip, cities500.zip, or the extracted "
             ".txt / .txt.gz), or with --csv a CSV of your own places.", metavar="FILE", dir_okay=False)],
    as_csv: Annotated[bool, typer.Option(
        "--csv", help="FILE is a CSV with the header: name, alternate_names, lat, lon, country, admin1, admin2, "
                      "kind (alternate names separated by | or ;). Implied by a .csv file name.")] = False,
    classes: Annotated[str, typer.Option(
        "--classes", help="GeoNames feature classes to keep, comma-separated: P populated places (towns, villages, "
                          "city neighbourhoods), A administrative units; S adds spots and buildings (hospitals, "
                          "schools, military bases, airports); also H, L, R, T, U, V.")] = "P,A",
    admin1: Annotated[Optional[Path], typer.Option(
        "--admin1", help="GeoNames admin1CodesASCII.txt for first-level unit names (default: the one next to "
                         "FILE, if any; else the default index's names).", dir_okay=False)] = None,
    admin2: Annotated[Optional[Path], typer.Option(
        "--admin2", help="GeoNames admin2Codes.txt for second-level unit names (default: the one next to FILE, "
                         "if any).", dir_okay=False)] = None,
    into: Annotated[Optional[Path], typer.Option(
        "--into", help="The user index to write (default: user-gazetteer.sqlite next to the default index).",
        dir_okay=False)] = None,
) -> None:
    """Import places into the user index, which look-ups consult beside the default index.

    The file is streamed (memory stays flat even for allCountries.zip) and imported in one
    go: on any bad line the user index is left as it was. An imported GeoNames entry with
    the id of a default entry replaces it; importing the same file again replaces its
    earlier import.
    """
    from .gazetteer import reset_default_gazetteer, user_path
    from .gazetteer_import import GazetteerImportError, import_csv, import_geonames

    target = into or user_path()
    csv_mode = as_csv or file.name.lower().endswith((".csv", ".tsv"))
    progress = _progress(file)
    try:
        if csv_mode:
            if admin1 or admin2 or classes != "P,A":
                raise typer.BadParameter("--classes, --admin1 and --admin2 are for GeoNames dumps, not --csv")
            result = import_csv(file, into=target)
        else:
            result = import_geonames(file, into=target, classes=classes.split(","), admin1=admin1, admin2=admin2,
                                     progress=progress)
    except GazetteerImportError as exc:
        typer.echo(f"error: {exc}", err=True)  # unwrapped: editors jump to FILE:LINE
        typer.echo(f"nothing imported; {target} is unchanged.", err=True)
        raise typer.Exit(code=1) from None
    finally:
        if progress is not None:
            progress(None)
    reset_default_gazetteer()
    parts = [f"{result.new:,} new", f"{result.replaced:,} replacing default entries"]
    if result.updated:
        parts.append(f"{result.updated:,} already imported")
    if result.aliases:
        parts.append(f"{result.aliases:,} countries/units named in the default index (their names added)")
    if result.removed:
        parts.append(f"{result.removed:,} dropped from the source since its last import")
    skipped = f"; {result.skipped:,} of other classes skipped" if result.skipped else ""
    console.print(f"{file.name}: {result.lines:,} lines read, {result.kept:,} entries kept{skipped}.", markup=False)
    console.print("  " + "; ".join(parts) + ".", markup=False)
    console.print(f"User index: {result.index} ({result.entries:,} entries), in {result.seconds:.1f} s.", markup=False)


def _progress(file: Path):
    """A lines-read counter on a terminal (None elsewhere)."""
    if not errors.is_terminal:
        return None
    t0 = time.perf_counter()

    def report(lines: int | None) -> None:
        if lines is None:
            errors.file.write("\r\033[K")
        else:
            errors.file.write(f"\r{file.name}: {lines:,} lines ({time.perf_counter() - t0:.0f} s)")
        errors.file.flush()

    return report


@app.command("info")
def info(
    into: Annotated[Optional[Path], typer.Option(
        "--into", help="The user index to describe (default: the one next to the default index).",
        dir_okay=False)] = None,
) -> None:
    """Where the indexes are, what they hold, and their versions."""
    import sqlite3

    from .gazetteer import default_path, user_path, version_key
    from .gazetteer_import import USER_SCHEMA_VERSION, user_index_info

    path = default_path()
    console.print(f"Default index: {path}", markup=False)
    console.print(f"  version {version_key()}", markup=False)
    if path.exists():
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            meta = dict(con.execute("SELECT k, v FROM meta").fetchall())
        finally:
            con.close()
        stale = "" if meta.get("version") == version_key() else f" (stale: {meta.get('version')}; rebuilt on next use)"
        console.print(f"  {int(meta.get('places', 0)):,} places, {int(meta.get('names', 0)):,} name keys; built "
                      f"{meta.get('built', '?')} in {meta.get('build_seconds', '?')} s{stale}", markup=False)
    else:
        console.print("  not built yet (built on first use, or: kharita gazetteer build)", markup=False)
    upath = into or user_path()
    console.print(f"User index: {upath}", markup=False)
    data = user_index_info(upath)
    if not data:
        console.print("  empty (kharita gazetteer import SY.zip | --csv places.csv)", markup=False)
        return
    if "error" in data:
        console.print(f"  {data['error']}", markup=False)
        raise typer.Exit(code=1)
    meta = data["meta"]
    console.print(f"  schema {meta.get('schema')} (this version reads {USER_SCHEMA_VERSION}), name keys "
                  f"v{meta.get('names')}", markup=False)
    features = ", ".join(f"{n:,} {f}" for f, n in sorted(data["features"].items(), key=lambda kv: -kv[1]))
    console.print(f"  {data['places']:,} entries ({features or 'none'}), {data['names']:,} name keys, "
                  f"{data['aliases']:,} units named in the default index", markup=False)
    for s in data["sources"]:
        console.print(f"  {s['source']}: {s['entries']:,} entries, {s['aliases']:,} aliases, imported "
                      f"{s['imported']} from {s['path']}", markup=False)


@app.command("build")
def build_() -> None:
    """Rebuild the default index now (about 25 s); the user index is kept."""
    from .gazetteer import build, default_path, reset_default_gazetteer

    path = build(default_path())
    reset_default_gazetteer()
    import sqlite3

    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        meta = dict(con.execute("SELECT k, v FROM meta").fetchall())
    finally:
        con.close()
    console.print(f"Default index: {path}: {int(meta['places']):,} places, {int(meta['names']):,} name keys, "
                  f"built in {meta['build_seconds']} s.", markup=False)
