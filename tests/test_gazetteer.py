"""The gazetteer index: built once per machine (cached on disk), then only read."""
from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from kharita import gazetteer as gz
from kharita.doc import Place
from kharita.gazetteer import (
    Gazetteer,
    acled_region,
    default_gazetteer,
    demonym_country,
    version_key,
)
from kharita.lexicon import data_lines
from kharita.names import key_similarity, name_key, skeleton_key


@pytest.fixture(scope="session")
def gaz() -> Gazetteer:
    # Built on first use into $KHARITA_CACHE or ~/.cache/kharita, then reused by every session.
    return default_gazetteer()


def test_index_is_current_and_compact(gaz: Gazetteer) -> None:
    meta = gaz.meta()
    assert meta["version"] == version_key()
    assert int(meta["places"]) > 230_000
    assert gaz.path.stat().st_size < 150 * 1024 * 1024
    assert gaz.path.name == f"gazetteer-{version_key()}.sqlite"


@pytest.mark.parametrize("geonameid, admin1", [
    (170044, "Hama"),      # Halfaya, GeoNames admin1 code SY.10
    (168325, "Idlib"),     # Khan Shaykhun, SY.12
    (170654, "Damascus"),  # Damascus, SY.13 (not the surrounding Rif Dimashq)
    (163270, "Hama"),      # Tayyibat al Imam
    (170017, "Hama"),      # Hama city
])
def test_admin1_names_of_syrian_places(gaz: Gazetteer, geonameid: int, admin1: str) -> None:
    place = gaz.place(geonameid)
    assert place is not None and place.country_code == "SY" and place.admin1 == admin1


def test_admin1_of_countries_whose_first_level_holds_no_cities(gaz: Gazetteer) -> None:
    paris = gaz.place(2988507)
    assert paris is not None and paris.admin1 == "Île-de-France" and paris.admin2 == "Paris"
    london = gaz.place(2643743)
    assert london is not None and london.admin1 == "England"
    nyc = gaz.place(5128581)
    assert nyc is not None and nyc.admin1 == "New York"


def test_lookup_by_spelling_variant(gaz: Gazetteer) -> None:
    assert 168325 in {p.geonameid for p in gaz.lookup("Khan Sheikhoun")}
    assert 169389 in {p.geonameid for p in gaz.lookup("Idleb")}
    assert 170794 in {p.geonameid for p in gaz.lookup("Dayr az Zawr")}
    # Arabic script: إدلب is Idlib
    assert 169389 in {p.geonameid for p in gaz.lookup("إدلب")}
    assert gaz.lookup("Qwxzyville") == []


def test_fuzzy_lookup_confirms_skeleton_matches(gaz: Gazetteer) -> None:
    assert gaz.lookup("Taibat al-Imam") == []
    assert gaz.fuzzy_lookup("Taibat al-Imam")[0].geonameid == 163270
    assert gaz.fuzzy_lookup("Deir Ezzor")[0].geonameid in {170794, -2937}


def test_lookup_orders_units_then_population(gaz: Gazetteer) -> None:
    places = gaz.lookup("Hama")
    assert places[0].feature == "admin1" and places[0].country_code == "SY"
    populated = [p for p in places if p.feature == "populated"]
    assert populated[0].geonameid == 170017
    assert [p.population for p in populated] == sorted((p.population for p in populated), reverse=True)


def test_admin1_units(gaz: Gazetteer) -> None:
    hama = gaz.admin1("SY", "Hama Province")
    assert hama is not None and hama.feature == "admin1" and hama.geonameid < 0 and hama.admin1 == "Hama"
    assert gaz.admin1("sy", "Idleb").name == "Idlib"
    assert gaz.admin1("SY", "Rural Damascus").name == "Rif Dimashq"
    assert gaz.admin1("SY", "Lyon") is None
    assert len(gaz.admin1_units("SY")) == 14


def test_countries(gaz: Gazetteer) -> None:
    syria = gaz.country("SY")
    assert syria.feature == "country" and syria.name == "Syria" and syria.geonameid == 163843
    assert 30 < syria.latitude < 40 and 35 < syria.longitude < 43
    with pytest.raises(KeyError):
        gaz.country("QQ")
    assert gaz.country_by_name("Syrian Arab Republic").country_code == "SY"
    assert gaz.country_by_name("Britain").country_code == "GB"
    assert gaz.country_by_name("Hama") is None


@pytest.mark.parametrize("iso2, name, numeric, iso3, region", [
    ("SY", "Syria", 760, "SYR", "Middle East"),
    ("AM", "Armenia", 51, "ARM", "Caucasus and Central Asia"),
    ("EG", "Egypt", 818, "EGY", "Northern Africa"),
    ("ML", "Mali", 466, "MLI", "Western Africa"),
    ("UA", "Ukraine", 804, "UKR", "Europe"),
    ("PK", "Pakistan", 586, "PAK", "South Asia"),
    ("IR", "Iran", 364, "IRN", "Middle East"),
    ("MX", "Mexico", 484, "MEX", "Central America"),
    ("MM", "Myanmar", 104, "MMR", "Southeast Asia"),
])
def test_country_info(gaz: Gazetteer, iso2: str, name: str, numeric: int, iso3: str, region: str) -> None:
    info = gaz.country_info(iso2)
    assert (info["name"], info["iso_numeric"], info["iso3"], info["region"]) == (name, numeric, iso3, region)


def test_every_country_has_an_acled_region(gaz: Gazetteer) -> None:
    rows = gaz._query("SELECT iso2, subregion FROM country")
    assert len(rows) > 240
    assert all(acled_region(iso2, sub) for iso2, sub in rows)


@pytest.mark.parametrize("word, iso2", [
    ("Syrian", "SY"), ("Syrians", "SY"), ("Russian", "RU"), ("American", "US"), ("Americans", "US"),
    ("Iraqis", "IQ"), ("Frenchmen", "FR"), ("Iranian's", "IR"), ("Kurdish", None), ("table", None),
])
def test_demonym_country(word: str, iso2: str | None) -> None:
    assert demonym_country(word) == iso2


def test_demonym_file_names_only_known_countries(gaz: Gazetteer) -> None:
    known = {iso2 for (iso2,) in gaz._query("SELECT iso2 FROM country")}
    assert set(gz._demonyms().values()) <= known
    assert len(gz._demonyms()) > 200


def test_every_alias_reaches_its_target(gaz: Gazetteer) -> None:
    for alias, cc, aim in data_lines("places_aliases.tsv"):
        places = gaz.lookup(alias)
        if aim == "country":
            assert any(p.feature == "country" and p.country_code == cc for p in places), alias
        elif aim == "continent":
            assert any(p.feature == "continent" for p in places), alias
        else:
            assert any(p.feature in ("admin1", "admin2") and p.country_code == cc and p.name == aim
                       for p in places), alias


def test_continents_and_the_eu(gaz: Gazetteer) -> None:
    africa = gaz.lookup("Africa")[0]
    assert africa.feature == "continent" and africa.country_code == "" and 0 < africa.latitude < 15
    assert gaz.lookup("European Union")[0].name == "Europe"
    assert gaz.lookup("EU")[0].feature == "continent"


def test_us_counties_from_zip_codes(gaz: Gazetteer) -> None:
    counties = [p for p in gaz.lookup("Licking County") if p.feature == "admin2"]
    assert [(p.country_code, p.admin1) for p in counties] == [("US", "Ohio")]
    county = counties[0]
    assert abs(county.latitude - 40.09) < 0.3 and abs(county.longitude + 82.48) < 0.3  # around Newark, Ohio
    assert county.geonameid == -(gz.COUNTY_ID_BASE + 39089)  # FIPS 39089
    newark = next(p for p in gaz.lookup("Newark") if p.admin1 == "Ohio")
    assert newark.admin2 == "Licking County"  # US cities know their county
    assert len({p.admin1 for p in gaz.lookup("Washington County") if p.feature == "admin2"}) > 20


def test_capitals_and_country_points(gaz: Gazetteer) -> None:
    capitals = gaz.capitals()
    assert {p.admin1 for p in gaz.lookup("Washington") if p.geonameid in capitals} == {"District of Columbia"}
    assert any(p.geonameid in capitals for p in gaz.lookup("Damascus"))
    us = gaz.country("US")  # country_points.tsv: the centre of the contiguous states, not (38, -97)
    assert (round(us.latitude, 1), round(us.longitude, 1)) == (39.8, -98.6)


def test_version_key_follows_the_data_files(monkeypatch: pytest.MonkeyPatch) -> None:
    before = gz.version_key()
    gz._data_hash.cache_clear()
    monkeypatch.setattr(gz, "_BUILD_DATA", ("places_aliases.tsv",))
    try:
        assert gz.version_key() != before
    finally:
        gz._data_hash.cache_clear()


def test_stale_index_is_rebuilt(gaz: Gazetteer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stale = tmp_path / "gazetteer.sqlite"
    con = sqlite3.connect(stale)
    con.execute("CREATE TABLE meta(k TEXT PRIMARY KEY, v TEXT)")
    con.execute("INSERT INTO meta VALUES ('version', 'old')")
    con.commit()
    con.close()
    calls = []

    def fake_build(path):  # stands in for the 20-second build: copies the session's index
        calls.append(Path(path))
        shutil.copyfile(gaz.path, path)
        return Path(path)

    monkeypatch.setattr(gz, "build", fake_build)
    with Gazetteer.open(stale) as fresh:
        assert calls == [stale]
        assert fresh.lookup("Halfaya")[0].geonameid == 170044
    # A current index is opened as it is.
    with Gazetteer.open(stale):
        assert calls == [stale]


def test_default_path_follows_kharita_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KHARITA_CACHE", str(tmp_path))
    assert gz.default_path() == tmp_path / f"gazetteer-{version_key()}.sqlite"
    monkeypatch.setenv("KHARITA_CACHE", str(tmp_path / "mine.sqlite"))
    assert gz.default_path() == tmp_path / "mine.sqlite"


def test_lookup_keys_in_one_query(gaz: Gazetteer) -> None:
    keys = [name_key("Hama"), name_key("Qwxzyville"), name_key("Idleb"), name_key("Hama")]
    found = gaz.lookup_keys(keys)
    assert set(found) == set(keys) and found[name_key("Qwxzyville")] == ()
    hama = found[name_key("Hama")]
    # Entries best-known first (feature class, then population), as `lookup` gives them.
    assert [p for p, _ in hama] == gaz.lookup("Hama")
    ranks = [(gz.FEATURE_RANK.get(p.feature, 9), -p.population) for p, _ in hama]
    assert ranks == sorted(ranks)
    main = {p.geonameid: m for p, m in hama}
    assert main[170017] is False and True in main.values()  # Ḩamāh under an alternate name; the province its own
    # Places come whole from their row (NULL columns as the Place defaults), the same as `place()`.
    for p, _ in hama[:5] + found[name_key("Idleb")]:
        assert gaz.place(p.geonameid) == p
    assert gaz.lookup_keys(keys)[name_key("Hama")] is hama  # cached


def test_close_keys_share_a_skeleton_and_pass_the_threshold(gaz: Gazetteer) -> None:
    key = name_key("Taibat al-Imam")
    close = gaz.close_keys([key], 70.0)[key]
    similar = gaz.similar_keys([skeleton_key(key)])[skeleton_key(key)]
    assert close and [k for k, _ in close] == [k for k in similar if key_similarity(key, k) >= 70.0]
    assert all(score == key_similarity(key, k) for k, score in close)
    assert name_key("Tayyibat al Imam") in {k for k, _ in close}
    assert gaz.close_keys([key], 70.0)[key] is close  # cached
    assert len(gaz.close_keys([key], 95.0)[key]) < len(close)  # per threshold
    assert gaz.close_keys([name_key("Qwxzyville")], 70.0) == {name_key("Qwxzyville"): ()}


def test_place_from_row_is_place_of_the_row(gaz: Gazetteer) -> None:
    rows = gaz._query(gz._LOOKUP_SQL, (gz._json_array(["damascus", "springfield", "syria", "aleppo"]),))
    assert len(rows) > 10
    for row in rows:
        made, plain = gz._place_from_row(row), Place(*row[:9])
        assert made == plain and hash(made) == hash(plain) and repr(made) == repr(plain)
    with pytest.raises(AttributeError):
        made.name = "x"  # still frozen


def test_json_array_is_json() -> None:
    import json

    for keys in (["a b", "ḥalab", "دمشق"], ['a"b'], ["x\\y"], ["\x01"], ["\ud800"], ["a"], ["a", '"'], ["", ""]):
        assert json.loads(gz._json_array(keys)) == keys
    assert gz._json_array(["deir zor", "hama"]) == '["deir zor","hama"]'
