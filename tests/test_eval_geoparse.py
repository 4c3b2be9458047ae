"""`kharita eval geoparse`: corpus formats, the scoring rules, the command's JSON and its errors."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kharita.cli import app
from kharita.evaluation.geoparse import KEYS, Gold, Prediction, load, score, score_article

SHARED = Path(__file__).resolve().parents[1].parent / "shared"  # as in conftest.py
LGL = SHARED / "eval" / "geoparsing" / "lgl.xml"
runner = CliRunner()

TEXT = "Shelling hit Aleppo and Idlib on Monday, Syrian media said."
ALEPPO = (36.2021, 37.1343)
IDLIB = (35.9306, 36.6339)

LGL_XML = f"""<?xml version="1.0" encoding="utf-8"?>
<articles>
  <article docid="1">
    <text><![CDATA[{TEXT}]]></text>
    <toponyms>
      <toponym><start>13</start><end>19</end><phrase>Aleppo</phrase>
        <gaztag geonameid="170063"><name>Aleppo</name><lat>{ALEPPO[0]}</lat><lon>{ALEPPO[1]}</lon></gaztag>
      </toponym>
      <toponym><start>24</start><end>29</end><phrase>Idlib</phrase>
        <gaztag geonameid="169389"><name>Idlib</name><lat>{IDLIB[0]}</lat><lon>{IDLIB[1]}</lon></gaztag>
      </toponym>
      <toponym><start>41</start><end>47</end><phrase>Syrian</phrase></toponym>
    </toponyms>
  </article>
</articles>
"""

GWN_XML = f"""<?xml version="1.0" ?>
<articles>
  <article file="0">
    <title>t</title>
    <text>{TEXT}</text>
    <toponyms>
      <toponym><extractedName>Aleppo</extractedName><type>Literal</type><start>13</start><end>19</end>
        <latitude>{ALEPPO[0]}</latitude><longitude>{ALEPPO[1]}</longitude></toponym>
      <toponym><extractedName>Idlib</extractedName><type>Literal</type><start>24</start><end>29</end>
        <latitude>{IDLIB[0]}</latitude><longitude>{IDLIB[1]}</longitude></toponym>
      <toponym><extractedName>media</extractedName><type>Non_Lit_Expression</type><start>48</start><end>53</end>
        </toponym>
    </toponyms>
  </article>
</articles>
"""

# GeoVirus counts offsets from 1: "Aleppo" is at 14-20 there.
GEOVIRUS_XML = f"""<articles>
  <article>
    <source>https://example.org/1</source>
    <text>{TEXT}</text>
    <locations>
      <location><name>Aleppo</name><start>14</start><end>20</end>
        <lat>{ALEPPO[0]}</lat><lon>{ALEPPO[1]}</lon></location>
    </locations>
  </article>
</articles>
"""


@pytest.fixture
def corpus(tmp_path: Path):
    def write(name: str, content: str) -> Path:
        path = tmp_path / name
        path.write_text(content, encoding="utf-8")
        return path
    return write


def gold(start: int, end: int, lat: float | None = ALEPPO[0], lon: float | None = ALEPPO[1]) -> Gold:
    return Gold(start, end, TEXT[start:end], lat, lon)


def pred(start: int, end: int, lat: float = ALEPPO[0], lon: float = ALEPPO[1]) -> Prediction:
    return Prediction(start, end, lat, lon, TEXT[start:end])


# -- formats ---------------------------------------------------------------------------

def test_lgl_format(corpus):
    fmt, articles = load(corpus("lgl.xml", LGL_XML))
    assert fmt == "lgl" and len(articles) == 1
    g = articles[0].gold
    assert [(x.name, x.lat is not None) for x in g] == [("Aleppo", True), ("Idlib", True), ("Syrian", False)]
    assert all(articles[0].text[x.start:x.end] == x.name for x in g)


def test_gwn_format_keeps_toponyms_with_coordinates(corpus):
    fmt, articles = load(corpus("gwn.xml", GWN_XML))
    assert fmt == "gwn"
    assert [x.name for x in articles[0].gold] == ["Aleppo", "Idlib"]  # "media" is no toponym


def test_geovirus_format_and_its_offsets(corpus):
    fmt, articles = load(corpus("geovirus.xml", GEOVIRUS_XML))
    assert fmt == "geovirus"
    (g,) = articles[0].gold
    assert (g.start, g.end) == (13, 19) and TEXT[g.start:g.end] == "Aleppo"


def test_limit(corpus):
    xml = LGL_XML.replace("</articles>", LGL_XML.split("<articles>")[1].split("</articles>")[0] + "</articles>")
    assert len(load(corpus("two.xml", xml))[1]) == 2
    assert len(load(corpus("two.xml", xml), limit=1)[1]) == 1


def test_unknown_format_is_an_error(corpus):
    with pytest.raises(ValueError):
        load(corpus("other.xml", "<articles><article><text>x</text></article></articles>"))


# -- scoring ---------------------------------------------------------------------------

def test_a_prediction_needs_overlap_and_161_km():
    golds = [gold(13, 19)]
    assert score_article(golds, [pred(13, 19)])["tp"] == 1
    assert score_article(golds, [pred(15, 23)])["tp"] == 1  # partial overlap is enough
    assert score_article(golds, [pred(19, 23)])["tp"] == 0  # touching is not overlapping
    far = score_article(golds, [pred(13, 19, *IDLIB)])  # ~50 km: still right
    assert far["tp"] == 1
    wrong = score_article(golds, [pred(13, 19, 33.5138, 36.2765)])  # Damascus, ~300 km away
    assert wrong["tp"] == 0 and wrong["predicted"] == 1
    assert wrong["errors"] and 250 < wrong["errors"][0] < 350  # found, but resolved too far


def test_each_gold_toponym_is_matched_once():
    golds = [gold(13, 19)]
    counts = score_article(golds, [pred(13, 16), pred(16, 19)])
    assert counts["tp"] == 1 and counts["predicted"] == 2 and counts["gold"] == 1


def test_matching_is_maximal():
    # p1 overlaps both gold spans, p2 only the first: both gold toponyms can be matched.
    golds = [gold(13, 19), gold(24, 29)]
    counts = score_article(golds, [pred(13, 29), pred(13, 19)])
    assert counts["tp"] == 2


def test_toponyms_without_coordinates_are_ignored():
    golds = [gold(13, 19), gold(41, 47, None, None)]
    counts = score_article(golds, [pred(13, 19), pred(41, 47, 35.0, 38.0)])
    assert counts == {"tp": 1, "predicted": 1, "gold": 1, "errors": [0.0]}


def test_figures():
    from kharita.evaluation.geoparse import Article

    art = Article("1", TEXT, [gold(13, 19), gold(24, 29, *IDLIB)])
    result = score([art], [[pred(13, 19), pred(24, 29, 33.5138, 36.2765), pred(0, 8)]], seconds=0.5)
    assert result["precision"] == pytest.approx(1 / 3, abs=1e-4)
    assert result["recall"] == pytest.approx(0.5)
    assert result["f1_161km"] == pytest.approx(0.4)
    assert result["acc_161km"] == pytest.approx(0.5)  # two found, one within 161 km
    assert 100 < result["mean_error_km"] < 200
    assert result["docs_per_s"] == pytest.approx(2.0)


# -- the command -----------------------------------------------------------------------

@pytest.mark.parametrize("name, xml", [("lgl.xml", LGL_XML), ("gwn.xml", GWN_XML), ("geovirus.xml", GEOVIRUS_XML)])
def test_json_output(corpus, name, xml):
    result = runner.invoke(app, ["eval", "geoparse", str(corpus(name, xml)), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert tuple(figures) == KEYS
    assert figures["recall"] > 0  # Aleppo is found


def test_table_output(corpus):
    result = runner.invoke(app, ["eval", "geoparse", str(corpus("lgl.xml", LGL_XML))])
    assert result.exit_code == 0, result.output
    assert "F1 @161 km" in result.stdout and "docs/s" in result.stdout


def test_baseline_side_by_side(corpus):
    pytest.importorskip("spacy")
    from kharita.evaluation.geoparse import BaselineUnavailable, load_baseline_model

    try:
        load_baseline_model()
    except BaselineUnavailable:
        pytest.skip("spaCy's small English model is not installed")
    path = str(corpus("lgl.xml", LGL_XML))
    result = runner.invoke(app, ["eval", "geoparse", path, "--baseline", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert tuple(figures) == KEYS + ("baseline",) and tuple(figures["baseline"]) == KEYS
    table = runner.invoke(app, ["eval", "geoparse", path, "--baseline"])
    assert table.exit_code == 0 and "baseline" in table.stdout


def test_baseline_without_spacy_is_a_clear_error(corpus, monkeypatch):
    from kharita.evaluation.geoparse import load_baseline_model

    load_baseline_model.cache_clear()
    monkeypatch.setitem(sys.modules, "spacy", None)  # import spacy now raises ImportError
    result = runner.invoke(app, ["eval", "geoparse", str(corpus("lgl.xml", LGL_XML)), "--baseline", "--json"])
    assert result.exit_code == 2
    assert "kharita[baseline]" in result.output and "Traceback" not in result.output
    load_baseline_model.cache_clear()


def test_bad_file_is_a_clear_error(corpus):
    result = runner.invoke(app, ["eval", "geoparse", str(corpus("bad.xml", "<articles><article>"))])
    assert result.exit_code == 2 and "bad.xml" in result.output


@pytest.mark.shared
def test_on_lgl():
    if not LGL.exists():
        pytest.skip("../shared is not here: LGL is not available")
    result = runner.invoke(app, ["eval", "geoparse", str(LGL), "--limit", "20", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert tuple(figures) == KEYS
    assert figures["f1_161km"] > 0.4 and figures["precision"] > 0.4
