"""User gazetteers: import a GeoNames dump or your own CSV, then look places up.

Every test writes its user index under tmp_path (never ~/.cache) and reads the default
index, which is built once per machine. The fixtures are tiny files in exact GeoNames
format: tests/fixtures/geonames/README.md says what is real and what is made up.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kharita.cli import app
from kharita.gazetteer import Gazetteer, default_path, version_key
from kharita.gazetteer_import import (
    USER_ID_RANGE,
    GazetteerImportError,
    csv_id,
    import_csv,
    import_geonames,
)

FIXTURES = Path(__file__).parent / "fixtures" / "geonames"
SY_TXT = FIXTURES / "SY.txt"
PLACES_CSV = FIXTURES / "places.csv"


@pytest.fixture(scope="module")
def default() -> Gazetteer:
    """The default index alone (no user index)."""
    return Gazetteer.open(default_path(), user=False)


@pytest.fixture
def user(tmp_path: Path) -> Path:
    return tmp_path / "user-gazetteer.sqlite"


def opened(default: Gazetteer, user: Path) -> Gazetteer:
    """The default index with a user index, as `kharita` opens them."""
    return Gazetteer.open(default.path, user=user)


def only(gaz: Gazetteer, name: str):
    [place] = gaz.lookup(name)
    return place


def digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def sy_zip(tmp_path: Path, with_readme: bool = True) -> Path:
    """SY.zip as GeoNames serves it: SY.txt and readme.txt."""
    path = tmp_path / "SY.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(SY_TXT, "SY.txt")
        if with_readme:
            zf.writestr("readme.txt", "GeoNames country extract\n")
    return path


# ---------------------------------------------------------------------------
# GeoNames dumps
# ---------------------------------------------------------------------------

def test_import_a_country_dump_then_its_villages_and_neighbourhoods_resolve(default: Gazetteer, user: Path) -> None:
    assert default.lookup("Al-Lataminah") == [] and default.lookup("Qaboun") == []

    result = import_geonames(SY_TXT, into=user, default=default)

    assert (result.lines, result.skipped) == (13, 2)  # the hospital (S) and the mountains (T) are not kept
    with opened(default, user) as gaz:
        lataminah = only(gaz, "Al-Lataminah")
        assert (lataminah.geonameid, lataminah.feature, lataminah.country_code) == (11800101, "populated", "SY")
        assert (lataminah.latitude, lataminah.longitude) == (35.32, 36.62)
        assert lataminah.admin1 == "Hama"
        assert only(gaz, "Abdin").admin1 == "Idlib"
        for spelling in ("Qaboun", "Qabun", "Al-Qaboun"):
            assert only(gaz, spelling).geonameid == 11800103
        assert only(gaz, "Barzeh").admin1 == "Damascus"
        assert only(gaz, "Jobar").name == "Jawbar"
        # The spelling in the flagship report matches through the consonant skeleton.
        assert [p.geonameid for p in gaz.fuzzy_lookup("Latamneh")] == [11800101]
        # The default entries are all still there.
        assert 168325 in {p.geonameid for p in gaz.lookup("Khan Sheikhoun")}
        assert gaz.admin1("SY", "Hama").geonameid == default.admin1("SY", "Hama").geonameid


def test_a_zip_is_read_without_extracting_it(default: Gazetteer, user: Path, tmp_path: Path) -> None:
    result = import_geonames(sy_zip(tmp_path), into=user, default=default)
    assert result.source == "geonames:SY" and result.lines == 13
    with opened(default, user) as gaz:
        assert only(gaz, "Qaboun").name == "Al Qābūn"


def test_reimporting_the_same_file_changes_nothing(default: Gazetteer, user: Path) -> None:
    def tables() -> dict[str, list]:
        con = sqlite3.connect(user)
        try:  # everything but the import's run number
            return {t: con.execute(f"SELECT {cols} FROM {t} ORDER BY 1, 2").fetchall() for t, cols in {
                "place": "id, name, lat, lon, cc, feature, admin1, admin2, pop, a1code, a2code, kind, ascii, alt, src",
                "name": "*", "skel": "*", "alias": "gid, id, names, src", "admin1_code": "*", "admin2_code": "*",
            }.items()}
        finally:
            con.close()

    first = import_geonames(SY_TXT, into=user, default=default)
    before = tables()
    again = import_geonames(SY_TXT, into=user, default=default)
    assert tables() == before
    assert (again.kept, again.new, again.updated) == (first.kept, 0, first.kept)
    with opened(default, user) as gaz:
        assert len(gaz.lookup("Qaboun")) == 1


def test_an_imported_entry_replaces_the_default_one_with_its_geonameid(default: Gazetteer, user: Path) -> None:
    # SY.txt gives Halfaya (170044) a newer population and an admin2 name.
    assert default.place(170044).population == 23403
    import_geonames(SY_TXT, into=user, default=default)
    with opened(default, user) as gaz:
        halfaya = only(gaz, "Halfaya")
        assert (halfaya.geonameid, halfaya.population, halfaya.admin2) == (170044, 23501, "Maḩradah District")
        assert gaz.place(170044) == halfaya
        # Names only the default index has still find the (replaced) entry.
        assert [p.population for p in gaz.lookup("Damaskus")] == [1569394]


def test_countries_and_first_level_units_lend_their_names_to_the_default_entries(
        default: Gazetteer, user: Path) -> None:
    result = import_geonames(SY_TXT, into=user, default=default)
    assert result.aliases == 2  # Syria (PCLI) and the Idlib governorate (ADM1)
    with opened(default, user) as gaz:
        assert only(gaz, "Sourie") == default.country("SY")
        assert only(gaz, "Muhafazat Idlib") == default.admin1("SY", "Idlib")
        assert len(gaz.admin1_units("SY")) == len(default.admin1_units("SY")) == 14
        # A district is a region of its own ("admin2"), found by its full name only.
        assert only(gaz, "Maarrat al-Numan District").feature == "admin2"
        assert {p.feature for p in gaz.lookup("Maarrat al-Numan")} == {"populated"}


def test_admin_names_come_from_the_code_files_next_to_the_dump(default: Gazetteer, user: Path) -> None:
    # tests/fixtures/geonames holds admin1CodesASCII.txt ("SY.13 Damascus Governorate") and admin2Codes.txt.
    import_geonames(SY_TXT, into=user, default=default)
    with opened(default, user) as gaz:
        qaboun = only(gaz, "Qaboun")
        assert qaboun.admin1 == "Damascus"  # written as the default index writes the unit
        abdin = only(gaz, "Abdin")
        assert (abdin.admin1, abdin.admin2) == ("Idlib", "Ma‘arrat an Nu‘mān District")


def test_without_code_files_admin1_names_follow_the_default_index(
        default: Gazetteer, user: Path, tmp_path: Path) -> None:
    alone = tmp_path / "dump" / "SY.txt"
    alone.parent.mkdir()
    shutil.copy(SY_TXT, alone)
    import_geonames(alone, into=user, default=default)
    with opened(default, user) as gaz:
        # Damascus, Khan Shaykhun and Halfaya are in both: their admin1 codes get the default's names.
        assert [only(gaz, n).admin1 for n in ("Qaboun", "Abdin", "Al-Lataminah")] == ["Damascus", "Idlib", "Hama"]
        assert only(gaz, "Qaboun").admin2 == ""


def test_admin_code_files_can_be_given(default: Gazetteer, user: Path, tmp_path: Path) -> None:
    alone = tmp_path / "SY.txt"
    shutil.copy(SY_TXT, alone)
    admin1 = tmp_path / "codes1.txt"
    admin1.write_text("SY.10\tHamah Governorate\tHamah Governorate\t1\nSY.12\tIdlib\tIdlib\t2\n", encoding="utf-8")
    import_geonames(alone, into=user, default=default, admin1=admin1, admin2=FIXTURES / "admin2Codes.txt")
    with opened(default, user) as gaz:
        lataminah = only(gaz, "Al-Lataminah")
        assert (lataminah.admin1, lataminah.admin2) == ("Hama", "Maḩradah District")


def test_class_s_adds_hospitals_schools_and_bases(default: Gazetteer, user: Path) -> None:
    result = import_geonames(SY_TXT, into=user, default=default, classes=["P", "A", "S"])
    assert result.skipped == 1  # the mountains (T)
    with opened(default, user) as gaz:
        hospital = only(gaz, "Shaam Hospital")
        assert (hospital.feature, hospital.admin1) == ("site", "Idlib")


def test_an_unknown_feature_class_is_refused(default: Gazetteer, user: Path) -> None:
    with pytest.raises(GazetteerImportError, match="feature classes"):
        import_geonames(SY_TXT, into=user, default=default, classes=["P", "X"])


# ---------------------------------------------------------------------------
# A CSV of local knowledge
# ---------------------------------------------------------------------------

def test_import_a_csv_of_local_places(default: Gazetteer, user: Path) -> None:
    result = import_csv(PLACES_CSV, into=user, default=default)
    assert (result.lines, result.new) == (3, 3)
    with opened(default, user) as gaz:
        tarmala = only(gaz, "Tarmalah")  # an alternate name (alternates split on | or ;)
        # Country given by name, admin1 as "Idlib Governorate": written as the default index writes them.
        assert (tarmala.name, tarmala.country_code, tarmala.admin1, tarmala.feature) == (
            "Tarmala", "SY", "Idlib", "populated")
        assert tarmala.geonameid == csv_id("Tarmala", "SY", 35.475, 36.64)
        base = only(gaz, "Hama Airbase")
        assert (base.name, base.feature, base.admin1) == ("Hama Military Airport", "site", "Hama")
        hospital = only(gaz, "Shaam hospital")
        assert (hospital.feature, hospital.admin2) == ("site", "Maarrat al-Numan")


def test_csv_ids_are_stable_and_cannot_collide_with_default_ids(default: Gazetteer, user: Path) -> None:
    import_csv(PLACES_CSV, into=user, default=default)
    con = sqlite3.connect(user)
    ids = sorted(i for (i,) in con.execute("SELECT id FROM place"))
    con.close()
    assert all(USER_ID_RANGE[0] <= i <= USER_ID_RANGE[1] for i in ids)
    # countrystatecity's first-level units have small negative ids, US counties -(5e8 + FIPS):
    # both far above the range.
    (lowest_default,) = default._query("SELECT MIN(id) FROM place")[0]
    assert lowest_default > -600_000_000 > USER_ID_RANGE[1]
    import_csv(PLACES_CSV, into=user, default=default)
    con = sqlite3.connect(user)
    assert sorted(i for (i,) in con.execute("SELECT id FROM place")) == ids
    con.close()


def test_reimporting_an_edited_csv_replaces_its_earlier_import(default: Gazetteer, user: Path, tmp_path: Path) -> None:
    mine = tmp_path / "places.csv"
    shutil.copy(PLACES_CSV, mine)
    import_csv(mine, into=user, default=default)
    import_geonames(SY_TXT, into=user, default=default)  # another source stays as it is
    # Tarmala moved, the airport dropped.
    mine.write_text("name,alternate_names,lat,lon,country,admin1,admin2,kind\n"
                    "Tarmala,,35.48,36.641,SY,Idlib,,village\n", encoding="utf-8")
    result = import_csv(mine, into=user, default=default)
    assert result.removed == 3
    with opened(default, user) as gaz:
        assert (only(gaz, "Tarmala").latitude, gaz.lookup("Hama Airbase")) == (35.48, [])
        assert only(gaz, "Qaboun").geonameid == 11800103


# ---------------------------------------------------------------------------
# Bad input: a clear message naming the file and line, and the index as it was
# ---------------------------------------------------------------------------

def geonames_line(gid: int = 11800199, name: str = "Tall Test", lat: str = "35.1", lon: str = "36.7") -> str:
    return "\t".join([str(gid), name, name, "", lat, lon, "P", "PPL", "SY", "", "10", "", "", "", "0", "", "300",
                      "Asia/Damascus", "2023-01-15"])


def with_line(tmp_path: Path, line: str, at: int = 5, name: str = "SY.txt") -> Path:
    lines = SY_TXT.read_text(encoding="utf-8").splitlines()
    lines.insert(at - 1, line)
    path = tmp_path / "bad" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("line, message", [
    (geonames_line(lat="123.4"), r"SY.txt:5: latitude 123.4 is out of range"),
    (geonames_line(lon="-181"), r"SY.txt:5: longitude -181 is out of range"),
    (geonames_line(lat="35,1"), r"SY.txt:5: latitude '35,1' is not a number"),
    (geonames_line(lat="nan"), r"SY.txt:5: latitude nan is out of range"),
    ("11800199\tTall Test\tTall Test\t35.1\t36.7\tP\tPPL\tSY", r"SY.txt:5: expected 19 tab-separated columns.*found 8"),
    (geonames_line() + "\textra", r"SY.txt:5: expected 19 tab-separated columns.*found 20"),
    (geonames_line().replace("11800199", "12a", 1), r"SY.txt:5: geonameid '12a' is not a number"),
])
def test_a_bad_geonames_line_names_its_line_and_imports_nothing(
        default: Gazetteer, user: Path, tmp_path: Path, line: str, message: str) -> None:
    import_csv(PLACES_CSV, into=user, default=default)  # an index with something in it
    before = digest(user)
    with pytest.raises(GazetteerImportError, match=message):
        import_geonames(with_line(tmp_path, line), into=user, default=default)
    assert digest(user) == before
    assert [p.name for p in user.parent.iterdir() if p.suffix == ".tmp"] == []


def test_a_bad_line_after_many_good_batches_still_imports_nothing(
        default: Gazetteer, user: Path, tmp_path: Path) -> None:
    dump = tmp_path / "big.txt"
    with dump.open("w", encoding="utf-8") as fh:
        for i in range(12_000):  # more than two batches are written before the bad line
            fh.write(geonames_line(gid=30_000_000 + i, name=f"Qaryat {i}") + "\n")
        fh.write(geonames_line(lat="95") + "\n")
    with pytest.raises(GazetteerImportError, match=r"big.txt:12001: latitude 95 is out of range"):
        import_geonames(dump, into=user, default=default)
    assert not user.exists()  # there was no user index before: there is none after


def test_a_corrupt_or_truncated_zip_is_refused(default: Gazetteer, user: Path, tmp_path: Path) -> None:
    import_geonames(SY_TXT, into=user, default=default)
    before = digest(user)
    good = sy_zip(tmp_path).read_bytes()
    truncated = tmp_path / "t" / "SY.zip"
    truncated.parent.mkdir()
    truncated.write_bytes(good[: len(good) // 2])  # an interrupted download
    with pytest.raises(GazetteerImportError, match=r"t/SY.zip: not a readable zip file.*download it again"):
        import_geonames(truncated, into=user, default=default)
    junk = tmp_path / "j" / "SY.zip"
    junk.parent.mkdir()
    junk.write_bytes(b"<html>404 Not Found</html>")
    with pytest.raises(GazetteerImportError, match=r"j/SY.zip: not a readable zip file"):
        import_geonames(junk, into=user, default=default)
    assert digest(user) == before


def test_corrupt_data_inside_a_zip_is_refused(default: Gazetteer, user: Path, tmp_path: Path) -> None:
    path = tmp_path / "SY.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.write(SY_TXT, "SY.txt")
    data = bytearray(path.read_bytes())
    at = data.index(b"Jawbar")
    data[at:at + 6] = b"Jxwbar"  # the stored CRC no longer matches
    path.write_bytes(bytes(data))
    with pytest.raises(GazetteerImportError, match=r"SY.zip/SY.txt:\d+: the file is corrupt or truncated"):
        import_geonames(path, into=user, default=default)
    assert not user.exists()


@pytest.mark.parametrize("text, message", [
    ("name,alternate_names,country,kind\nTarmala,,SY,village\n",
     r"places.csv:1: missing column\(s\) lat, lon"),
    ("name,alternate_names,lat,lon,country\nTarmala,,35.4,36.6,SY\nTall,,95.0,36.6,SY\n",
     r"places.csv:3: latitude 95.0 is out of range"),
    ("name,lat,lon,country\nTarmala,35.4,east,SY\n", r"places.csv:2: longitude 'east' is not a number"),
    ("name,lat,lon,country\nTarmala,35.4,36.6,Narnia\n", r"places.csv:2: unknown country 'Narnia'"),
    ("name,lat,lon,country\nTarmala,35.4,36.6\n", r"places.csv:2: expected 4 fields"),
    # A quoted name over two lines: the error still names the physical line.
    ("name,lat,lon,country\n\"Tar\nmala\",35.4,36.6,SY\nTall,100,0,SY\n", r"places.csv:4: latitude 100 is out of range"),
])
def test_a_bad_csv_names_its_line_and_imports_nothing(
        default: Gazetteer, user: Path, tmp_path: Path, text: str, message: str) -> None:
    import_geonames(SY_TXT, into=user, default=default)
    before = digest(user)
    bad = tmp_path / "places.csv"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(GazetteerImportError, match=message):
        import_csv(bad, into=user, default=default)
    assert digest(user) == before


# ---------------------------------------------------------------------------
# Scale, re-keying
# ---------------------------------------------------------------------------

_BIG_IMPORT = textwrap.dedent("""
    import json, random, resource, sys, time
    from pathlib import Path
    from kharita.gazetteer import Gazetteer, default_path
    from kharita.gazetteer_import import import_geonames

    dump, into = Path(sys.argv[1]), Path(sys.argv[2])
    syllables = ["kaf", "ra", "tal", "bu", "dar", "sha", "min", "qa", "zar", "hu", "ma", "lin", "ya", "bir"]
    # GeoNames' mix: about 40% of allCountries is class P or A; the rest are rivers, hills, buildings ...
    classes = ["P"] * 38 + ["A"] * 3 + ["H"] * 20 + ["S"] * 19 + ["T"] * 17 + ["L"] * 3
    rnd = random.Random(7)
    with dump.open("w", encoding="utf-8") as fh:
        for i in range(200_000):
            name = "".join(rnd.choice(syllables) for _ in range(3)).title() + f" {i}"
            fc = rnd.choice(classes)
            code = {"P": "PPL", "A": "ADM3", "H": "WAD", "S": "FRM", "T": "HLL", "L": "AREA"}[fc]
            fh.write("\\t".join([str(20_000_000 + i), name, name, f"Al-{name},{name}eh", f"{rnd.uniform(32, 37):.5f}",
                                f"{rnd.uniform(35, 42):.5f}", fc, code, "SY", "", f"{rnd.randint(1, 14):02d}", "", "",
                                "", "0", "", "300", "Asia/Damascus", "2023-01-15"]) + "\\n")
    def kb(field):  # VmRSS (now) or VmHWM (peak) from /proc; ru_maxrss where there is no /proc
        try:
            for line in open("/proc/self/status"):
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        except OSError:
            pass
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    default = Gazetteer.open(default_path(), user=False)
    default.lookup("Damascus")
    before = kb("VmRSS")
    t0 = time.perf_counter()
    result = import_geonames(dump, into=into, default=default)
    seconds = time.perf_counter() - t0
    grown = kb("VmHWM") - before
    print(json.dumps({"seconds": seconds, "rss_growth_kb": grown, "kept": result.kept, "lines": result.lines,
                      "mb": dump.stat().st_size / 1e6}))
""")


def test_a_large_dump_is_streamed_in_bounded_memory(default: Gazetteer, tmp_path: Path) -> None:
    # A fresh process, so that the peak RSS it reports is the import's own.
    out = subprocess.run([sys.executable, "-c", _BIG_IMPORT, str(tmp_path / "big.txt"), str(tmp_path / "u.sqlite")],
                         capture_output=True, text=True, check=True)
    stats = json.loads(out.stdout.strip().splitlines()[-1])
    assert stats["lines"] == 200_000 and 75_000 < stats["kept"] < 90_000
    # The dump is ~28 MB; holding its lines would add well over 100 MB of Python strings.
    assert stats["rss_growth_kb"] < 60_000, stats
    assert stats["seconds"] < 30, stats  # ~5 s on a 2-core laptop-class machine
    con = sqlite3.connect(tmp_path / "u.sqlite")
    assert con.execute("SELECT COUNT(*) FROM place").fetchone()[0] == stats["kept"]
    con.close()


def test_an_index_with_stale_name_keys_is_rekeyed_when_opened(default: Gazetteer, user: Path) -> None:
    import_geonames(SY_TXT, into=user, default=default)
    con = sqlite3.connect(user)
    con.execute("DELETE FROM name")  # as if the keys had been made by another `name_key`
    con.execute("DELETE FROM skel")
    con.execute("UPDATE meta SET v = '0' WHERE k = 'names'")
    con.commit()
    con.close()
    with opened(default, user) as gaz:
        assert only(gaz, "Qaboun").geonameid == 11800103
        assert only(gaz, "Sourie").feature == "country"
        assert [p.geonameid for p in gaz.fuzzy_lookup("Latamneh")] == [11800101]
        assert gaz.user_meta()["names"] != "0"


# ---------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------

@pytest.fixture
def cache(tmp_path: Path, default: Gazetteer) -> dict[str, str]:
    """$KHARITA_CACHE pointing at tmp_path, where the default index is linked (not rebuilt)."""
    linked = tmp_path / "cache" / f"gazetteer-{version_key()}.sqlite"
    linked.parent.mkdir()
    linked.symlink_to(default.path.resolve())
    return {"KHARITA_CACHE": str(linked)}


def test_cli_import_info_and_errors(cache: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()
    user = tmp_path / "cache" / "user-gazetteer.sqlite"

    done = runner.invoke(app, ["gazetteer", "import", str(SY_TXT)], env=cache)
    assert done.exit_code == 0, done.output
    assert "SY.txt: 13 lines read, 11 entries kept; 2 of other classes skipped." in done.output
    assert f"User index: {user} (9 entries)" in done.output

    done = runner.invoke(app, ["gazetteer", "import", "--csv", str(PLACES_CSV)], env=cache)
    assert done.exit_code == 0, done.output
    assert "3 new" in done.output

    info = runner.invoke(app, ["gazetteer", "info"], env=cache)
    assert info.exit_code == 0, info.output
    assert f"Default index: {cache['KHARITA_CACHE']}" in info.output and version_key() in info.output
    assert f"User index: {user}" in info.output
    assert "12 entries" in info.output and "geonames:SY: 9 entries" in info.output
    assert "csv:places: 3 entries" in info.output

    before = digest(user)
    bad = with_line(tmp_path, geonames_line(lat="123.4"), at=7)
    failed = runner.invoke(app, ["gazetteer", "import", str(bad)], env=cache)
    assert failed.exit_code == 1
    assert f"error: {bad}:7: latitude 123.4 is out of range" in failed.output
    assert "nothing imported" in failed.output
    assert digest(user) == before


def test_cli_import_into_another_index(cache: dict[str, str], tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.sqlite"
    done = CliRunner().invoke(app, ["gazetteer", "import", str(SY_TXT), "--classes", "P", "--into", str(elsewhere)],
                              env=cache)
    assert done.exit_code == 0, done.output
    assert elsewhere.exists() and not (tmp_path / "cache" / "user-gazetteer.sqlite").exists()
    assert "5 of other classes skipped" in done.output


def test_cli_help_says_what_class_s_brings() -> None:
    shown = CliRunner().invoke(app, ["gazetteer", "import", "--help"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0
    assert "hospitals" in shown.output and "military" in shown.output


def test_cli_build_rebuilds_the_default_index(cache: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                               default: Gazetteer) -> None:
    from kharita import gazetteer as gz

    built = []

    def fake_build(path):  # stands in for the 25-second build
        built.append(Path(path))
        return default.path

    monkeypatch.setattr(gz, "build", fake_build)
    done = CliRunner().invoke(app, ["gazetteer", "build"], env=cache)
    assert done.exit_code == 0, done.output
    assert built == [Path(cache["KHARITA_CACHE"])]
    assert "places" in done.output


# ---------------------------------------------------------------------------
# The flagship report
# ---------------------------------------------------------------------------

@pytest.mark.shared
def test_flagship_latamneh_resolves_exactly_once_sy_is_imported(
        flagship_report, default: Gazetteer, user: Path) -> None:
    from kharita.names import name_key
    from kharita.pipeline import Pipeline

    import_geonames(SY_TXT, into=user, default=default)
    with opened(default, user) as gaz:
        events = Pipeline(gazetteer=gaz)(flagship_report)
    [latamneh] = [e for e in events if e.sub_event_type == "Air/drone strike"
                  and name_key(e.location) in {"latamneh", "lataminah"}]
    assert latamneh.geo_precision == 1 and latamneh.geonames_id == 11800101
    assert (latamneh.latitude, latamneh.longitude, latamneh.admin1) == (35.32, 36.62, "Hama")
    # "near the village of Abdin": the imported village's point, ACLED precision 2 ("near").
    [abdin] = [e for e in events if e.sub_event_type == "Air/drone strike" and e.geonames_id == 11800102]
    assert (abdin.latitude, abdin.longitude, abdin.admin1, abdin.geo_precision) == (35.66, 36.59, "Idlib", 2)
