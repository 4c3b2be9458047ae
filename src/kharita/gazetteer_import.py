"""Importing places into the user gazetteer: GeoNames dumps and your own CSV lists.

The default index (`kharita.gazetteer`) holds GeoNames places of 500+ people;
villages, city neighbourhoods (Qaboun, Jobar), hospitals and bases come from a
GeoNames dump the user downloads, or from a CSV of local knowledge. Both go into
the *user index*, a second SQLite file next to the default one
(`user-gazetteer.sqlite`, or `--into PATH`), which `Gazetteer` consults too.

GeoNames input: `allCountries.zip`, a country zip (`SY.zip`), `cities500.zip`
and the like, the extracted `.txt` or a `.txt.gz`, in the 19-column "geoname"
table format (geonameid, name, asciiname, alternatenames, latitude, longitude,
feature class, feature code, country code, cc2, admin1 code, admin2 code,
admin3 code, admin4 code, population, elevation, dem, timezone, modification
date). Lines are streamed from the file or zip member and inserted in batches,
so memory stays flat whatever the size of the dump.

- Feature classes kept: P (populated places, including city sections such as
  Qaboun) and A (administrative units) by default; S adds spots and buildings
  (hospitals, schools, military bases, airports). Historical units (ADM1H, PCLH
  ...) are skipped.
- Features: P -> "populated", PCL* -> "country", ADM1 -> "admin1", other A ->
  "admin2" (a region below the first level), anything else -> "site".
- Countries and first-level units that the default index already has are not
  added again: their imported names become names of the default entries.
- An entry with a default entry's geonameid replaces it (name, coordinates,
  admin names, population); the default's names keep finding it.
- Admin1 names come from `admin1CodesASCII.txt` (given, or lying next to the
  dump), written as the default index writes that unit ("Idlib", not "Idlib
  Governorate"; "Hama", not "Hamah") when it knows it; else from the default index's naming of that
  (country, admin1 code), by a vote of the imported places it also has; else
  from the dump's own ADM1 row. Admin2 names come from `admin2Codes.txt`.

CSV input: a header naming `name, alternate_names, lat, lon, country, admin1,
admin2, kind` (name, lat, lon and country required; alternate names separated
by `|` or `;`; country an ISO alpha-2 code or a name; kind such as village,
neighbourhood -> "populated", governorate -> "admin1", district -> "admin2",
hospital, base, checkpoint ... -> "site"). Each entry gets a stable negative id
from a hash of (name, country, lat, lon) in USER_ID_RANGE, -1,999,999,999 to
-1,000,000,000: far below countrystatecity's negative first-level ids (a few
thousand) and within a 32-bit integer.

Every import is atomic: the user index is copied to a temporary file next to it,
the import runs there, and the copy replaces the index by an atomic rename only
when the whole file was read without error. A bad line raises
`GazetteerImportError("SY.txt:1234: latitude 123.4 is out of range ...")` and
leaves the user index exactly as it was. A source (a dump's or a CSV's file
name) imported again replaces its earlier import: re-importing a file is
idempotent, and entries since dropped from it disappear.
"""
from __future__ import annotations

import contextlib
import csv
import gzip
import hashlib
import logging
import math
import os
import shutil
import sqlite3
import tempfile
import time
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .doc import Place
from .gazetteer import (
    _ADMIN_SUFFIXES,
    Gazetteer,
    _keep_alternate,
    default_path,
    user_path,
)
from .names import NAMES_VERSION, name_key, names_match, skeleton_key

log = logging.getLogger(__name__)

USER_SCHEMA_VERSION = "1"
GEONAMES_COLUMNS = 19
DEFAULT_CLASSES = ("P", "A")
ALL_CLASSES = frozenset("AHLPRSTUV")
BATCH_SIZE = 5000
# Ids of CSV entries: -(USER_ID_BASE + hash % USER_ID_BASE).
USER_ID_BASE = 1_000_000_000
USER_ID_RANGE = (-2 * USER_ID_BASE + 1, -USER_ID_BASE)

_SEP = "\x1f"  # joins alternate names in the stored rows
_NO_ADMIN1 = ("", "00")  # GeoNames: no first-level unit

_USER_DDL = """
CREATE TABLE meta(k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID;
-- Same first nine columns as the default index's place table; then what a re-import needs.
CREATE TABLE place(
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, lat REAL, lon REAL, cc TEXT, feature TEXT,
    admin1 TEXT, admin2 TEXT, pop INTEGER,
    a1code TEXT NOT NULL DEFAULT '', a2code TEXT NOT NULL DEFAULT '',
    kind TEXT, ascii TEXT, alt TEXT, src TEXT NOT NULL, run INTEGER NOT NULL);
CREATE INDEX place_src ON place(src, run);
CREATE TABLE name(key TEXT NOT NULL, id INTEGER NOT NULL, main INTEGER NOT NULL,
    PRIMARY KEY(key, id)) WITHOUT ROWID;
CREATE TABLE skel(skey TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY(skey, key)) WITHOUT ROWID;
-- Names an import adds to a default entry (a country, a first-level unit): gid is the imported row's id.
CREATE TABLE alias(gid INTEGER PRIMARY KEY, id INTEGER NOT NULL, names TEXT NOT NULL,
    src TEXT NOT NULL, run INTEGER NOT NULL);
-- (country, GeoNames admin code) -> name; rank: 3 code file, 2 default index, 1 the dump's ADM1 row.
CREATE TABLE admin1_code(cc TEXT NOT NULL, code TEXT NOT NULL, name TEXT NOT NULL, rank INTEGER NOT NULL,
    PRIMARY KEY(cc, code)) WITHOUT ROWID;
CREATE TABLE admin2_code(cc TEXT NOT NULL, a1 TEXT NOT NULL, code TEXT NOT NULL, name TEXT NOT NULL,
    PRIMARY KEY(cc, a1, code)) WITHOUT ROWID;
CREATE TABLE source(src TEXT PRIMARY KEY, kind TEXT, path TEXT, entries INTEGER, aliases INTEGER,
    imported TEXT, run INTEGER) WITHOUT ROWID;
"""

# CSV kinds -> features (anything else non-empty is a "site").
_KIND_FEATURE = {
    **dict.fromkeys(("", "populated", "place", "city", "town", "village", "hamlet", "settlement", "neighbourhood",
                     "neighborhood", "quarter", "suburb", "district of a city", "camp", "idp camp",
                     "refugee camp"), "populated"),
    **dict.fromkeys(("admin1", "governorate", "province", "state", "region"), "admin1"),
    **dict.fromkeys(("admin2", "district", "subdistrict", "sub-district", "nahiya", "county", "municipality",
                     "area"), "admin2"),
    "country": "country",
}
_CSV_ALIASES = {
    "alternate_names": "alternate_names", "alternatenames": "alternate_names", "alternates": "alternate_names",
    "alt_names": "alternate_names", "lat": "lat", "latitude": "lat", "lon": "lon", "lng": "lon",
    "long": "lon", "longitude": "lon", "country": "country", "country_code": "country", "cc": "country",
    "name": "name", "admin1": "admin1", "admin2": "admin2", "kind": "kind", "type": "kind", "feature": "kind",
    "population": "population",
}
CSV_COLUMNS = ("name", "alternate_names", "lat", "lon", "country", "admin1", "admin2", "kind")
_CSV_REQUIRED = ("name", "lat", "lon", "country")


class GazetteerImportError(ValueError):
    """A file that cannot be imported, with the place of the problem: `SY.txt:1234: ...`."""


@dataclass
class ImportResult:
    source: str
    index: Path
    lines: int = 0        # data lines read
    kept: int = 0         # entries written (places and aliases)
    new: int = 0          # entries neither in the user index before nor in the default index
    replaced: int = 0     # entries replacing a default entry of the same id
    updated: int = 0      # entries the user index already had (a re-import)
    aliases: int = 0      # imported countries / first-level units whose names went to default entries
    removed: int = 0      # entries of an earlier import of the same source no longer in it
    skipped: int = 0      # lines of other feature classes (or historical units)
    entries: int = 0      # places in the user index afterwards
    seconds: float = 0.0


@dataclass(slots=True)
class _Row:
    id: int
    name: str
    lat: float
    lon: float
    cc: str
    feature: str
    admin1: str
    admin2: str
    pop: int
    a1code: str
    a2code: str
    kind: str
    ascii: str
    alts: list[str]


# ---------------------------------------------------------------------------
# Name keys (as the default index computes them)
# ---------------------------------------------------------------------------

def _admin_variants(name: str) -> list[str]:
    short = _ADMIN_SUFFIXES.sub("", name)
    return [name, short] if short and short != name else [name]


def entry_keys(name: str, ascii_name: str, alts: Iterable[str], feature: str) -> dict[str, int]:
    """Strict key -> 1 if it comes from the entry's own name, else 0 (the `name` table's rows)."""
    key_of = name_key.__wrapped__  # uncached, as in the default build
    mains = [name, ascii_name]
    # As in the default build, only countries and first-level units also go by their short name
    # ("Idlib Governorate" = "Idlib"): a district's short name is usually its town's.
    if feature in ("country", "admin1"):
        mains = [v for n in mains if n for v in _admin_variants(n)]
    out: dict[str, int] = {}
    seen: set[str] = set()
    for main, names in ((1, mains), (0, alts)):
        for n in names:
            if n and n not in seen:  # GeoNames repeats the name as asciiname and among the alternates
                seen.add(n)
                k = key_of(n)
                if len(k) >= 2 and k not in out:
                    out[k] = main
    return out


def _alias_keys(names: str) -> dict[str, int]:
    return entry_keys("", "", names.split(_SEP), "admin1")


# ---------------------------------------------------------------------------
# The user index: checking, writing by atomic swap
# ---------------------------------------------------------------------------

def _meta(con: sqlite3.Connection) -> dict[str, str]:
    try:
        return dict(con.execute("SELECT k, v FROM meta").fetchall())
    except sqlite3.Error:
        return {}


def check_user_index(path: Path) -> bool:
    """Whether `path` is a usable user index; re-keys it first when the name keys changed."""
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            meta = _meta(con)
        finally:
            con.close()
    except sqlite3.Error:
        meta = {}
    if meta.get("kind") != "kharita-user-gazetteer" or meta.get("schema") != USER_SCHEMA_VERSION:
        log.warning("%s is not a user gazetteer of this version: ignored", path)
        return False
    if meta.get("names") != NAMES_VERSION:
        try:
            with _writing(path):
                pass  # `_writing` re-keys a stale index
        except (OSError, sqlite3.Error, GazetteerImportError) as exc:
            log.warning("%s has stale name keys and cannot be re-keyed (%s): ignored", path, exc)
            return False
        log.info("re-keyed %s for name keys v%s", path, NAMES_VERSION)
    return True


@contextlib.contextmanager
def _locked(target: Path) -> Iterator[None]:
    """One writer at a time (each writer copies the index, so a second one would lose the first's work)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    with open(target.parent / (target.name + ".lock"), "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def _writing(target: Path, default: Gazetteer | None = None) -> Iterator[sqlite3.Connection]:
    """A connection to a copy of the user index that replaces it atomically if the block succeeds.

    With `default`, the default index is attached (read-only) as schema `d`.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    with _locked(target):
        fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
        os.close(fd)
        try:
            if target.exists():
                shutil.copyfile(target, tmp)  # streamed: memory stays flat
            con = sqlite3.connect(Path(tmp).resolve().as_uri(), uri=True)  # uri: to ATTACH the default index
            try:
                con.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-16000;")
                meta = _meta(con)
                if not meta:
                    if target.exists() and target.stat().st_size:
                        raise GazetteerImportError(f"{target}: not a Kharita user gazetteer (move it away)")
                    con.executescript(_USER_DDL)
                    con.executemany("INSERT INTO meta VALUES (?,?)", [
                        ("kind", "kharita-user-gazetteer"), ("schema", USER_SCHEMA_VERSION), ("names", NAMES_VERSION),
                        ("created", time.strftime("%Y-%m-%dT%H:%M:%S"))])
                elif meta.get("kind") != "kharita-user-gazetteer" or meta.get("schema") != USER_SCHEMA_VERSION:
                    raise GazetteerImportError(f"{target}: not a user gazetteer of this version "
                                               f"(schema {meta.get('schema')}; move it away and import again)")
                elif meta.get("names") != NAMES_VERSION:
                    _rekey(con)
                con.commit()
                if default is not None:
                    con.execute("ATTACH DATABASE ? AS d", (f"{default.path.resolve().as_uri()}?mode=ro&immutable=1",))
                yield con
                con.commit()
            finally:
                con.close()
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)  # atomic: readers see the old index or the complete new one
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _rekey(con: sqlite3.Connection) -> None:
    """Recompute every name key (after `names.NAMES_VERSION` changed) from the stored names."""
    con.execute("DELETE FROM name")
    con.execute("DELETE FROM skel")
    cur = con.execute("SELECT id, name, ascii, alt, feature FROM place")
    while rows := cur.fetchmany(BATCH_SIZE):
        names = {(k, pid): m for pid, name, ascii_name, alt, feature in rows
                 for k, m in entry_keys(name, ascii_name or "", (alt or "").split(_SEP), feature).items()}
        _insert_names(con, names)
    aliases = con.execute("SELECT id, names FROM alias").fetchall()
    _insert_names(con, {(k, pid): 0 for pid, names in aliases for k in _alias_keys(names)})
    con.execute("INSERT OR REPLACE INTO meta VALUES ('names', ?)", (NAMES_VERSION,))


def _insert_names(con: sqlite3.Connection, names: dict[tuple[str, int], int]) -> None:
    con.executemany("INSERT OR REPLACE INTO name VALUES (?,?,?)", [(k, i, m) for (k, i), m in names.items()])
    skel = skeleton_key.__wrapped__
    con.executemany("INSERT OR IGNORE INTO skel VALUES (?,?)", [(skel(k), k) for k in {k for k, _ in names}])


def _chunks(seq: list, n: int = 500) -> Iterator[list]:
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


# ---------------------------------------------------------------------------
# Writing entries
# ---------------------------------------------------------------------------

class _Writer:
    """Batched writes of one import into the (copied) user index."""

    def __init__(self, con: sqlite3.Connection, src: str, result: ImportResult) -> None:
        self.con = con
        self.src = src
        self.result = result
        self.run = int(con.execute("SELECT COALESCE(MAX(run), 0) + 1 FROM source").fetchone()[0])
        self.batch: list[_Row] = []

    def add(self, row: _Row) -> None:
        self.batch.append(row)
        if len(self.batch) >= BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        batch, self.batch = self.batch, []
        if not batch:
            return
        rows = {r.id: r for r in batch}  # a later line with the same id wins
        ids = list(rows)
        old_names: dict[tuple[str, int], int] = {}
        known: set[int] = set()
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            for pid, name, ascii_name, alt, feature in self.con.execute(
                    f"SELECT id, name, ascii, alt, feature FROM place WHERE id IN ({marks})", chunk):
                known.add(pid)
                self.result.updated += 1
                for k in entry_keys(name, ascii_name or "", (alt or "").split(_SEP), feature):
                    old_names[(k, pid)] = 0
            for (pid,) in self.con.execute(f"SELECT id FROM d.place WHERE id IN ({marks})", chunk):
                known.add(pid)
                self.result.replaced += 1
            # An imported unit that was an alias of a default entry becomes an entry of its own.
            self._drop_aliases(chunk)
        self.result.new += len(ids) - len(known)
        new_names = {(k, r.id): m for r in rows.values()
                     for k, m in entry_keys(r.name, r.ascii, r.alts, r.feature).items()}
        stale = [k for k in old_names if k not in new_names]
        self.con.executemany("DELETE FROM name WHERE key = ? AND id = ?", stale)
        self.con.executemany("INSERT OR REPLACE INTO place VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", [
            (r.id, r.name, r.lat, r.lon, r.cc, r.feature, r.admin1, r.admin2, r.pop, r.a1code, r.a2code, r.kind,
             r.ascii, _SEP.join(r.alts), self.src, self.run) for r in rows.values()])
        _insert_names(self.con, new_names)
        self.result.kept += len(rows)

    def _drop_aliases(self, gids: list[int]) -> None:
        marks = ",".join("?" * len(gids))
        for gid, pid, names in self.con.execute(f"SELECT gid, id, names FROM alias WHERE gid IN ({marks})",
                                                gids).fetchall():
            self.con.execute("DELETE FROM alias WHERE gid = ?", (gid,))
            self._refresh_alias_names(pid, names)

    def _refresh_alias_names(self, pid: int, dropped: str = "") -> None:
        """Rewrite the name rows of default entry `pid` from its remaining aliases."""
        keys = set(_alias_keys(dropped)) if dropped else set()
        remaining = [n for (n,) in self.con.execute("SELECT names FROM alias WHERE id = ?", (pid,))]
        for names in remaining:
            keys |= set(_alias_keys(names))
        self.con.executemany("DELETE FROM name WHERE key = ? AND id = ?", [(k, pid) for k in keys])
        _insert_names(self.con, {(k, pid): 0 for names in remaining for k in _alias_keys(names)})

    def alias(self, gid: int, pid: int, names: list[str]) -> None:
        """Names of imported row `gid` become names of default entry `pid`."""
        self.flush()
        self._drop_place(gid)
        old = self.con.execute("SELECT names FROM alias WHERE gid = ?", (gid,)).fetchone()
        if old:
            self.result.updated += 1
        self.con.execute("INSERT OR REPLACE INTO alias VALUES (?,?,?,?,?)",
                         (gid, pid, _SEP.join(dict.fromkeys(n for n in names if n)), self.src, self.run))
        self._refresh_alias_names(pid, old[0] if old else "")
        self.result.kept += 1
        self.result.aliases += 1

    def _drop_place(self, pid: int) -> None:
        row = self.con.execute("SELECT name, ascii, alt, feature FROM place WHERE id = ?", (pid,)).fetchone()
        if row:
            keys = entry_keys(row[0], row[1] or "", (row[2] or "").split(_SEP), row[3])
            self.con.executemany("DELETE FROM name WHERE key = ? AND id = ?", [(k, pid) for k in keys])
            self.con.execute("DELETE FROM place WHERE id = ?", (pid,))

    def remove_stale(self) -> None:
        """Entries an earlier import of this source had and this one has not."""
        cur = self.con.execute("SELECT id FROM place WHERE src = ? AND run != ?", (self.src, self.run))
        stale = [pid for (pid,) in cur.fetchall()]
        for pid in stale:
            self._drop_place(pid)
        aliases = [gid for (gid,) in self.con.execute("SELECT gid FROM alias WHERE src = ? AND run != ?",
                                                       (self.src, self.run)).fetchall()]
        for chunk in _chunks(aliases):
            self._drop_aliases(chunk)
        self.result.removed = len(stale) + len(aliases)

    def finish(self, kind: str, path: Path) -> None:
        self.flush()
        self.remove_stale()
        _name_admin_units(self.con)
        con = self.con
        places = self.result.kept - self.result.aliases
        con.execute("INSERT OR REPLACE INTO source VALUES (?,?,?,?,?,?,?)", (
            self.src, kind, str(path), places, self.result.aliases, time.strftime("%Y-%m-%dT%H:%M:%S"), self.run))
        self.result.entries = con.execute("SELECT COUNT(*) FROM place").fetchone()[0]


def _name_admin_units(con: sqlite3.Connection) -> None:
    """Write the admin1/admin2 names of every entry with a GeoNames admin code."""
    con.execute("""UPDATE place SET admin1 = (SELECT a.name FROM admin1_code a WHERE a.cc = place.cc AND a.code = place.a1code)
                   WHERE a1code NOT IN ('', '00') AND EXISTS (
                       SELECT 1 FROM admin1_code a WHERE a.cc = place.cc AND a.code = place.a1code)""")
    con.execute("""UPDATE place SET admin2 = (SELECT b.name FROM admin2_code b
                       WHERE b.cc = place.cc AND b.a1 = place.a1code AND b.code = place.a2code)
                   WHERE a2code != '' AND EXISTS (SELECT 1 FROM admin2_code b
                       WHERE b.cc = place.cc AND b.a1 = place.a1code AND b.code = place.a2code)""")


def _set_admin1_code(con: sqlite3.Connection, cc: str, code: str, name: str, rank: int) -> None:
    con.execute("""INSERT INTO admin1_code VALUES (?,?,?,?) ON CONFLICT(cc, code)
                   DO UPDATE SET name = excluded.name, rank = excluded.rank WHERE excluded.rank >= admin1_code.rank""",
                (cc, code, name, rank))


def _vote_admin1_names(con: sqlite3.Connection) -> None:
    """(country, admin1 code) -> the admin1 name the default index (attached as `d`) gives the
    imported places it also has; the majority wins."""
    votes = con.execute("""
        SELECT u.cc, u.a1code, p.admin1, COUNT(*) FROM place u JOIN d.place p ON p.id = u.id
        WHERE u.a1code NOT IN ('', '00') AND p.admin1 != '' AND p.feature = 'populated' AND p.cc = u.cc
        GROUP BY u.cc, u.a1code, p.admin1""").fetchall()
    best: dict[tuple[str, str], tuple[int, str]] = {}
    for cc, code, name, n in votes:
        if (n, name) > best.get((cc, code), (0, "")):
            best[(cc, code)] = (n, name)
    for (cc, code), (_, name) in best.items():
        _set_admin1_code(con, cc, code, name, 2)


# ---------------------------------------------------------------------------
# GeoNames
# ---------------------------------------------------------------------------

def _feature(fclass: str, fcode: str) -> str | None:
    """Kharita's feature for a GeoNames class and code; None for historical units."""
    if fclass == "P":
        return "populated"
    if fclass == "A":
        if fcode.endswith("H"):  # ADM1H, PCLH ...: units that no longer exist
            return None
        if fcode.startswith("PCL"):
            return "country"
        if fcode == "ADM1":
            return "admin1"
        return "admin2"
    return "site"


def _coord(value: str, what: str, limit: float, where: str) -> float:
    try:
        x = float(value)
    except ValueError:
        raise GazetteerImportError(f"{where}: {what} {value!r} is not a number") from None
    if not math.isfinite(x) or not -limit <= x <= limit:
        raise GazetteerImportError(f"{where}: {what} {value} is out of range (-{limit:g} to {limit:g})")
    return x


@contextlib.contextmanager
def _geonames_lines(path: Path) -> Iterator[tuple[str, Iterator[bytes]]]:
    """(label for messages, the raw lines) of a GeoNames .txt, .txt.gz or .zip."""
    name = path.name
    if name.lower().endswith(".zip"):
        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise GazetteerImportError(f"{path}: not a readable zip file ({exc}); "
                                       "download it again (a truncated download looks like this)") from None
        with zf:
            members = [i for i in zf.infolist() if not i.is_dir() and i.filename.lower().endswith(".txt")]
            wanted = Path(name).stem.lower() + ".txt"
            chosen = [i for i in members if Path(i.filename).name.lower() == wanted] or \
                [i for i in members if Path(i.filename).name.lower() != "readme.txt"]
            if len(chosen) != 1:
                listed = ", ".join(i.filename for i in members) or "none"
                raise GazetteerImportError(f"{path}: expected one GeoNames .txt member, found {listed}")
            try:
                fh = zf.open(chosen[0])
            except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError) as exc:
                raise GazetteerImportError(f"{path}: cannot read {chosen[0].filename} ({exc})") from None
            with fh:
                yield f"{path}/{chosen[0].filename}", fh
    elif name.lower().endswith(".gz"):
        with gzip.open(path, "rb") as fh:
            yield str(path), fh
    else:
        with open(path, "rb") as fh:
            yield str(path), fh


def _read_lines(label: str, lines: Iterator[bytes]) -> Iterator[tuple[int, str]]:
    """Numbered, decoded lines; a corrupt archive becomes an error naming the line reached."""
    n = 0
    try:
        for n, raw in enumerate(lines, 1):
            try:
                yield n, raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as exc:
                raise GazetteerImportError(f"{label}:{n}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, gzip.BadGzipFile, OSError) as exc:
        raise GazetteerImportError(f"{label}:{n + 1}: the file is corrupt or truncated ({exc}); "
                                   "download it again") from None


def default_admin1(gaz: Gazetteer, cc: str, name: str) -> Place | None:
    """The default index's first-level unit of country `cc` called `name`, allowing for spelling
    ("Hamah Governorate" -> Hama); None when no unit or more than one fits."""
    unit = gaz.admin1(cc, name)
    if unit is not None:
        return unit
    short = _ADMIN_SUFFIXES.sub("", name.strip())
    fits = [u for u in gaz.admin1_units(cc) if names_match(short, u.name)]
    return fits[0] if len(fits) == 1 else None


def read_admin1_codes(path: Path, default: Gazetteer | None = None) -> dict[tuple[str, str], str]:
    """`admin1CodesASCII.txt` ("SY.12<TAB>Idlib<TAB>Idlib<TAB>169388") -> (country, code) -> name.

    Names are written as the default index writes the unit when it knows it ("Idlib
    Governorate" -> "Idlib"), so imported and default places agree.
    """
    out: dict[tuple[str, str], str] = {}
    with _geonames_lines(path) as (label, lines):
        for n, line in _read_lines(label, lines):
            if not line.strip():
                continue
            cols = line.split("\t")
            if len(cols) < 2 or "." not in cols[0] or not (cols[1] or cols[-1]).strip():
                raise GazetteerImportError(f"{label}:{n}: expected 'CC.CODE<TAB>name<TAB>asciiname<TAB>geonameid', "
                                           f"found {line[:60]!r}")
            cc, code = cols[0].split(".", 1)
            names = [c for c in cols[1:3] if c.strip()]
            canonical = None
            if default is not None:
                for candidate in names:
                    unit = default_admin1(default, cc.upper(), candidate)
                    if unit is not None:
                        canonical = unit.name
                        break
            out[(cc.upper(), code)] = canonical or names[0]
    return out


def read_admin2_codes(path: Path) -> dict[tuple[str, str, str], str]:
    """`admin2Codes.txt` ("SY.12.SY1203<TAB>name<TAB>asciiname<TAB>geonameid") -> (country, a1, a2) -> name."""
    out: dict[tuple[str, str, str], str] = {}
    with _geonames_lines(path) as (label, lines):
        for n, line in _read_lines(label, lines):
            if not line.strip():
                continue
            cols = line.split("\t")
            parts = cols[0].split(".")
            if len(cols) < 2 or len(parts) != 3 or not cols[1].strip():
                raise GazetteerImportError(f"{label}:{n}: expected 'CC.ADMIN1.ADMIN2<TAB>name<TAB>...', "
                                           f"found {line[:60]!r}")
            out[(parts[0].upper(), parts[1], parts[2])] = cols[1]
    return out


def _parse_geonames(label: str, n: int, line: str, classes: frozenset[str]) -> _Row | None:
    cols = line.split("\t")
    where = f"{label}:{n}"
    if len(cols) != GEONAMES_COLUMNS:
        raise GazetteerImportError(f"{where}: expected {GEONAMES_COLUMNS} tab-separated columns "
                                   f"(the GeoNames geoname table), found {len(cols)}")
    fclass, fcode = cols[6], cols[7]
    if fclass not in classes:
        return None
    feature = _feature(fclass, fcode)
    if feature is None:
        return None
    try:
        gid = int(cols[0])
    except ValueError:
        raise GazetteerImportError(f"{where}: geonameid {cols[0]!r} is not a number") from None
    if gid <= 0:
        raise GazetteerImportError(f"{where}: geonameid {gid} is not positive")
    name = cols[1].strip()
    if not name:
        raise GazetteerImportError(f"{where}: the name is empty")
    lat = _coord(cols[4], "latitude", 90, where)
    lon = _coord(cols[5], "longitude", 180, where)
    try:
        pop = int(cols[14] or 0)
    except ValueError:
        raise GazetteerImportError(f"{where}: population {cols[14]!r} is not a number") from None
    ascii_name = cols[2].strip()
    seen = {name, ascii_name}
    alts = []
    for a in cols[3].split(","):
        a = a.strip()
        if a not in seen and _keep_alternate(a):
            seen.add(a)
            alts.append(a)
    return _Row(gid, name, lat, lon, cols[8].upper(), feature, "", name if feature == "admin2" and fcode == "ADM2"
                else "", max(pop, 0), cols[10], cols[11], fcode, ascii_name, alts)


def _source_name(path: Path, kind: str) -> str:
    stem = path.name
    for suffix in (".gz", ".zip", ".txt", ".csv", ".tsv"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
    return f"{kind}:{stem}"


def _open_default(default: Gazetteer | None) -> tuple[Gazetteer, bool]:
    if default is not None:
        return default, False
    return Gazetteer.open(default_path(), user=False), True


def import_geonames(path: str | os.PathLike[str], into: str | os.PathLike[str] | None = None,
                    classes: Iterable[str] = DEFAULT_CLASSES, admin1: str | os.PathLike[str] | None = None,
                    admin2: str | os.PathLike[str] | None = None, default: Gazetteer | None = None,
                    progress: Callable[[int], None] | None = None) -> ImportResult:
    """Import a GeoNames dump (.zip, .txt or .txt.gz) into the user index `into` (default `user_path()`).

    `admin1`/`admin2`: GeoNames admin code files; when not given, `admin1CodesASCII.txt` and
    `admin2Codes.txt` next to the dump are used if present. `default`: the default index
    (for admin names and to tell replacements); opened when not given. `progress` is
    called with the number of lines read after each batch. Raises `GazetteerImportError`
    and leaves the user index untouched on any bad input.
    """
    t0 = time.perf_counter()
    src_path = Path(path)
    target = Path(into) if into else user_path()
    wanted = frozenset(c.strip().upper() for c in classes if c.strip())
    bad = wanted - ALL_CLASSES
    if bad or not wanted:
        raise GazetteerImportError(f"feature classes must be among {', '.join(sorted(ALL_CLASSES))}, "
                                   f"not {', '.join(sorted(bad)) or 'nothing'}")
    if not src_path.is_file():
        raise GazetteerImportError(f"{src_path}: no such file")
    a1_path = Path(admin1) if admin1 else _beside(src_path, "admin1CodesASCII.txt")
    a2_path = Path(admin2) if admin2 else _beside(src_path, "admin2Codes.txt")
    for given in (a1_path, a2_path):
        if given is not None and not given.is_file():
            raise GazetteerImportError(f"{given}: no such file")
    gaz, opened = _open_default(default)
    result = ImportResult(source=_source_name(src_path, "geonames"), index=target)
    try:
        a1_names = read_admin1_codes(a1_path, gaz) if a1_path else {}
        a2_names = read_admin2_codes(a2_path) if a2_path else {}
        with _writing(target, gaz) as con:
            con.executemany("""INSERT INTO admin1_code VALUES (?,?,?,3) ON CONFLICT(cc, code)
                               DO UPDATE SET name = excluded.name, rank = 3""",
                            [(cc, code, name) for (cc, code), name in a1_names.items()])
            con.executemany("INSERT OR REPLACE INTO admin2_code VALUES (?,?,?,?)",
                            [(cc, a1, a2, name) for (cc, a1, a2), name in a2_names.items()])
            del a1_names, a2_names
            w = _Writer(con, result.source, result)
            units: list[_Row] = []  # countries and first-level units: matched with the default's at the end
            with _geonames_lines(src_path) as (label, raw):
                for n, line in _read_lines(label, raw):
                    if not line:
                        continue
                    result.lines += 1
                    row = _parse_geonames(label, n, line, wanted)
                    if row is None:
                        result.skipped += 1
                    elif row.feature in ("country", "admin1"):
                        units.append(row)
                    else:
                        w.add(row)
                    if progress is not None and result.lines % BATCH_SIZE == 0:
                        progress(result.lines)
            w.flush()
            _vote_admin1_names(con)
            _place_units(con, w, units, gaz)
            w.finish("geonames", src_path)
    finally:
        if opened:
            gaz.close()
    result.seconds = time.perf_counter() - t0
    return result


def _beside(path: Path, name: str) -> Path | None:
    p = path.parent / name
    return p if p.is_file() else None


def _place_units(con: sqlite3.Connection, w: _Writer, units: list[_Row], gaz: Gazetteer) -> None:
    """Imported countries and first-level units: names of the default's entries when it has them."""
    codes = {(cc, code): name for cc, code, name in con.execute("SELECT cc, code, name FROM admin1_code")}
    for row in units:
        names = [row.name, row.ascii, *row.alts]
        if row.feature == "country":
            known = gaz.place(row.id)
            if known is not None and known.feature == "country":
                w.alias(row.id, row.id, names)
                continue
            row.admin1 = ""
            w.add(row)
            continue
        canonical = codes.get((row.cc, row.a1code)) if row.a1code not in _NO_ADMIN1 else None
        unit = None
        for candidate in (canonical, row.name, row.ascii):
            if candidate:
                unit = default_admin1(gaz, row.cc, candidate)
                if unit is not None:
                    break
        if unit is not None:
            w.alias(row.id, unit.geonameid, names)
            if row.a1code not in _NO_ADMIN1:
                _set_admin1_code(con, row.cc, row.a1code, unit.name, 1)
            continue
        row.admin1 = canonical or row.name
        if row.a1code not in _NO_ADMIN1:
            _set_admin1_code(con, row.cc, row.a1code, row.admin1, 1)
        w.add(row)
    w.flush()


# ---------------------------------------------------------------------------
# CSV of local knowledge
# ---------------------------------------------------------------------------

def csv_id(name: str, country: str, lat: float, lon: float) -> int:
    """The stable id of a CSV entry, in USER_ID_RANGE."""
    digest = hashlib.sha1(f"{name.strip()}\x1f{country.upper()}\x1f{lat:.6f}\x1f{lon:.6f}".encode()).digest()
    return -(USER_ID_BASE + int.from_bytes(digest[:8], "big") % USER_ID_BASE)


def _country_code(value: str, gaz: Gazetteer) -> str | None:
    v = value.strip()
    if len(v) == 2 and v.isalpha() and gaz.country_info(v):
        return v.upper()
    place = gaz.country_by_name(v) if v else None
    return place.country_code if place is not None else None


def import_csv(path: str | os.PathLike[str], into: str | os.PathLike[str] | None = None,
               default: Gazetteer | None = None) -> ImportResult:
    """Import a CSV of places (see the module docstring) into the user index `into`."""
    t0 = time.perf_counter()
    src_path = Path(path)
    target = Path(into) if into else user_path()
    if not src_path.is_file():
        raise GazetteerImportError(f"{src_path}: no such file")
    label = str(src_path)
    gaz, opened = _open_default(default)
    result = ImportResult(source=_source_name(src_path, "csv"), index=target)
    try:
        with _writing(target, gaz) as con, open(src_path, encoding="utf-8-sig", newline="") as fh:
            w = _Writer(con, result.source, result)
            first = fh.readline()
            fh.seek(0)
            delimiter = max((",", ";", "\t"), key=first.count)
            reader = csv.reader(fh, delimiter=delimiter)
            try:
                header = next(reader)
            except StopIteration:
                raise GazetteerImportError(f"{label}:1: empty file; expected a header naming "
                                           f"{', '.join(CSV_COLUMNS)}") from None
            except (csv.Error, UnicodeDecodeError) as exc:
                raise GazetteerImportError(f"{label}:1: unreadable header ({exc})") from None
            cols = [_CSV_ALIASES.get(h.strip().lower().replace(" ", "_").replace("-", "_"), "")
                    for h in header]
            missing = [c for c in _CSV_REQUIRED if c not in cols]
            if missing:
                raise GazetteerImportError(
                    f"{label}:1: missing column(s) {', '.join(missing)}; the header must name "
                    f"{', '.join(CSV_COLUMNS)} (name, lat, lon and country required)")
            at = {c: cols.index(c) for c in set(cols) if c}
            ids: dict[int, tuple] = {}
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    break
                except (csv.Error, UnicodeDecodeError) as exc:
                    raise GazetteerImportError(f"{label}:{reader.line_num}: unreadable line ({exc})") from None
                n = reader.line_num
                if not any(c.strip() for c in cells):
                    continue
                result.lines += 1
                where = f"{label}:{n}"
                if len(cells) != len(header):
                    raise GazetteerImportError(f"{where}: expected {len(header)} fields (as the header), "
                                               f"found {len(cells)}")
                row = _csv_row({c: cells[i].strip() for c, i in at.items()}, where, gaz)
                identity = (row.name, row.cc, round(row.lat, 6), round(row.lon, 6))
                row.id = csv_id(row.name, row.cc, row.lat, row.lon)
                while (row.id in ids and ids[row.id] != identity) or _taken(con, row.id, identity):
                    row.id = row.id - 1 if row.id > USER_ID_RANGE[0] else USER_ID_RANGE[1]  # a hash collision
                ids[row.id] = identity
                w.add(row)
            w.finish("csv", src_path)
    finally:
        if opened:
            gaz.close()
    result.seconds = time.perf_counter() - t0
    return result


def _csv_row(cell: dict[str, str], where: str, gaz: Gazetteer) -> _Row:
    """One CSV record (column -> stripped text) as an entry, without its id."""
    name = cell.get("name", "")
    if not name:
        raise GazetteerImportError(f"{where}: the name is empty")
    lat = _coord(cell["lat"], "latitude", 90, where)
    lon = _coord(cell["lon"], "longitude", 180, where)
    cc = _country_code(cell["country"], gaz)
    if cc is None:
        raise GazetteerImportError(f"{where}: unknown country {cell['country']!r} "
                                   "(an ISO alpha-2 code such as SY, or a country name)")
    kind = cell.get("kind", "").lower()
    feature = _KIND_FEATURE.get(kind, "site")
    pop_text = cell.get("population", "").replace(",", "")
    try:
        pop = int(float(pop_text)) if pop_text else 0
    except ValueError:
        raise GazetteerImportError(f"{where}: population {pop_text!r} is not a number") from None
    admin1 = cell.get("admin1", "")
    unit = default_admin1(gaz, cc, admin1) if admin1 else None
    admin1 = unit.name if unit is not None else admin1
    if feature == "admin1" and not admin1:
        admin1 = name
    alts = [a.strip() for a in cell.get("alternate_names", "").replace(";", "|").split("|") if a.strip()]
    return _Row(0, name, lat, lon, cc, feature, admin1, cell.get("admin2", ""), max(pop, 0), "", "",
                kind or "populated", "", alts)


def _taken(con: sqlite3.Connection, pid: int, identity: tuple) -> bool:
    """Whether id `pid` already belongs to another entry of the user index."""
    row = con.execute("SELECT name, cc, lat, lon FROM place WHERE id = ?", (pid,)).fetchone()
    if row is None:
        return False
    return (row[0], row[1], round(row[2], 6), round(row[3], 6)) != identity


# ---------------------------------------------------------------------------
# Information
# ---------------------------------------------------------------------------

def user_index_info(path: Path) -> dict:
    """Counts of a user index: entries, names, aliases, and per source."""
    if not path.exists():
        return {}
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        meta = _meta(con)
        if meta.get("kind") != "kharita-user-gazetteer":
            return {"meta": meta, "error": "not a Kharita user gazetteer"}
        features = Counter(dict(con.execute("SELECT feature, COUNT(*) FROM place GROUP BY feature")))
        return {
            "meta": meta,
            "places": sum(features.values()),
            "features": dict(features),
            "names": con.execute("SELECT COUNT(*) FROM name").fetchone()[0],
            "aliases": con.execute("SELECT COUNT(*) FROM alias").fetchone()[0],
            "sources": [dict(zip(("source", "kind", "path", "entries", "aliases", "imported"), r))
                        for r in con.execute("SELECT src, kind, path, entries, aliases, imported FROM source "
                                             "ORDER BY imported")],
        }
    finally:
        con.close()


__all__ = [
    "CSV_COLUMNS",
    "DEFAULT_CLASSES",
    "USER_ID_RANGE",
    "GazetteerImportError",
    "ImportResult",
    "check_user_index",
    "csv_id",
    "import_csv",
    "import_geonames",
    "user_index_info",
]
