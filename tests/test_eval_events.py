"""`kharita eval case2021` and `kharita eval fakes`: the scoring on tiny hand-written
fixtures, the JSON through the command line, and one run on each real benchmark file."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kharita.cli import app
from kharita.evaluation import case2021, fakes
from kharita.evaluation.metrics import NONE, averages, main_event, per_class, position
from kharita.events import taxonomy

SHARED = Path(__file__).resolve().parents[1].parent / "shared"  # as in conftest.py
runner = CliRunner()
CASE_DEV = SHARED / "eval" / "case2021-task2" / "dev.tsv"
FAKES_DEV = SHARED / "eval" / "fakes" / "dev.csv"
AVERAGES = ("micro_f1", "weighted_f1", "macro_f1")
FAKES_KEYS = ("governorate_acc", "cause_acc", "actor_acc", "fatalities_exact", "date_acc")


# -- metrics ------------------------------------------------------------------------------------

def test_f1_averages_follow_the_fixed_label_set():
    # Over labels A and B, "none" is a miss for the gold class and a false positive for none.
    gold, pred = ["A", "A", "B"], ["A", "B", NONE]
    scores = per_class(gold, pred, ["A", "B"])
    assert scores["A"].precision == 1.0 and scores["A"].recall == 0.5
    assert scores["B"].precision == 0.0 and scores["B"].support == 1 and scores["B"].predicted == 1
    a = averages(gold, pred, ["A", "B"])
    assert a["micro_f1"] == pytest.approx(0.4)             # P 1/2, R 1/3
    assert a["macro_f1"] == pytest.approx(round((2 / 3) / 2, 4))
    assert a["weighted_f1"] == pytest.approx(round((2 / 3) * 2 / 3, 4))
    # With "none" a class of its own, micro F1 is accuracy.
    b = averages(gold + [NONE], pred + [NONE], ["A", "B", NONE])
    assert b["micro_f1"] == 0.5


def test_macro_leaves_out_classes_never_seen_nor_predicted():
    assert averages(["A"], ["A"], ["A", "B"])["macro_f1"] == 1.0


def test_every_case_code_names_an_acled_sub_event_type():
    assert len(case2021.ACLED_TYPES) == 25 and len(case2021.NON_ACLED) == 5
    assert set(case2021.ACLED_TYPES) == set(taxonomy())


def test_main_event_strategies(event):
    later = event.model_copy(deep=True)
    later.evidence["sub_event_type"] = [s.model_copy(update={"start": s.start + 100, "end": s.end + 100})
                                        for s in event.evidence["sub_event_type"]]
    later.sub_event_type, later.fatalities = "Chemical weapon", 9
    assert position(event) < position(later)
    assert main_event([later, event], "first") is event
    assert main_event([event, later], "fatalities") is later
    assert main_event([event, later], "precedence") is later      # chemical weapon use first
    assert main_event([], "first") is None


# -- CASE 2021 ------------------------------------------------------------------------------------

CASE_ROWS = [
    ("1", "Warplanes struck the town of Saraqib in Idlib on Monday, killing five civilians.", "AIR_STRIKE"),
    ("2", "Heavy rain flooded farmland across the district, officials said.", "NATURAL_DISASTER"),
    ("3", "Gunmen kidnapped two aid workers near the town of Gao on Tuesday.", "ABDUCT_DISSAP"),
]


@pytest.fixture
def case_tsv(tmp_path):
    path = tmp_path / "case.tsv"
    path.write_text("id\tEventSnippet\tSubType\n" + "".join("\t".join(r) + "\n" for r in CASE_ROWS), encoding="utf-8")
    return path


def test_case_reader_and_gold_labels(case_tsv):
    snippets = case2021.read_tsv(case_tsv)
    assert [s.gold for s in snippets] == ["Air/drone strike", NONE, "Abduction/forced disappearance"]


def test_case_reader_rejects_unknown_codes(tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_text("id\tEventSnippet\tSubType\n1\tSomething happened.\tEARTHQUAKE\n", encoding="utf-8")
    with pytest.raises(ValueError, match="EARTHQUAKE"):
        case2021.read_tsv(path)


def test_case_score_counts_none_as_a_miss_for_acled_and_a_hit_outside(case_tsv):
    snippets = case2021.read_tsv(case_tsv)
    result = case2021.score(snippets, ["Air/drone strike", NONE, NONE])
    assert result["acled25"]["micro_f1"] == pytest.approx(round(2 * 1 * 0.5 / 1.5, 4))  # P 1, R 1/2
    assert result["all30"]["micro_f1"] == pytest.approx(round(2 / 3, 4))
    assert result["per_class"]["Abduction/forced disappearance"]["recall"] == 0.0
    assert result["non_acled"]["NATURAL_DISASTER"] == {"support": 1, "none": 1, "none_rate": 1.0, "predicted": {NONE: 1}}


def test_case_command_prints_one_json_object(case_tsv):
    result = runner.invoke(app, ["eval", "case2021", str(case_tsv), "--json", "--errors", "2"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    for scope in ("acled25", "all30"):
        assert set(AVERAGES) <= set(data[scope])
        assert all(0.0 <= data[scope][k] <= 1.0 for k in AVERAGES)
    assert data["snippets"] == 3 and data["docs_per_s"] > 0
    assert data["confusion"]["AIR_STRIKE"] == {"Air/drone strike": 1}


def test_case_command_table(case_tsv):
    result = runner.invoke(app, ["eval", "case2021", str(case_tsv), "--errors", "1"])
    assert result.exit_code == 0, result.output
    assert "Per class" in result.stdout and "Confusion" in result.stdout


# -- FA-KES -------------------------------------------------------------------------------------------

def test_governorate_spellings():
    assert fakes.governorate("hasakeh") == "Al-Hasakah"
    assert fakes.governorate("deir ezzor") == fakes.governorate("Deir ez-Zor") == "Deir ez-Zor"
    assert fakes.governorate("lattakia") == "Latakia"
    assert fakes.governorate("Damascus Suburbs") == "Rif Dimashq"
    assert fakes.governorate("raqqa") == "Al-Raqqah"
    assert fakes.governorate("Gaza") is None


def test_causes_and_actor_sides():
    assert fakes.cause_matches("shelling", "Air/drone strike")
    assert fakes.cause_matches("explosion", "Suicide bomb")
    assert not fakes.cause_matches("execution", "Armed clash")
    assert fakes.cause_matches("unknown", "Attack") is None
    assert fakes.gold_actor("syrian government or russian troops") == "government"
    assert fakes.gold_actor("the organization of the islamic state in iraq and the levant - isis") == "isis"
    assert fakes.gold_actor("unknown") is None
    assert fakes.actor_category("Military Forces of Syria (2000-)", "Syria") == "government"
    assert fakes.actor_category("Military Forces of Russia", "Syria") == "government"
    assert fakes.actor_category("Military Forces of United States", "Syria") == "coalition"
    assert fakes.actor_category("Operation Inherent Resolve", "Syria") == "coalition"
    assert fakes.actor_category("Islamic State (Syria)", "Syria") == "isis"
    assert fakes.actor_category("Hayat Tahrir al Sham", "Syria") == "nusra"
    assert fakes.actor_category("SDF: Syrian Democratic Forces", "Syria") == "kurdish"
    assert fakes.actor_category("Civilians (Syria)", "Syria") is None


def _article(**changes) -> fakes.Article:
    base = {"unit_id": "1", "title": "Strikes on Saraqib", "text": "", "source": "test", "date": date(2020, 2, 4),
            "location": "idlib", "actor": "syrian government or russian troops", "cause": "shelling", "fatalities": 5}
    return fakes.Article(**{**base, **changes})


def test_judging_the_main_event(event):
    # The conftest event: an air strike in Saraqib, Idlib, by Syria's military, 5 killed, 2020-02-03.
    verdicts = fakes.judge(_article(), [event], "first").verdicts
    assert all(v.scored and v.ok for v in verdicts.values())

    wrong = fakes.judge(_article(location="aleppo", cause="shooting", actor="international coalition forces",
                                 fatalities=7, date=date(2020, 3, 1)), [event], "first").verdicts
    assert not any(v.ok for v in wrong.values())
    assert wrong["governorate"].kind == "wrong governorate" and wrong["governorate"].detail.startswith("Aleppo -> Idlib")
    assert wrong["cause"].detail == "shooting -> Air/drone strike"
    assert wrong["fatalities"].kind == "too low"

    unscored = fakes.judge(_article(actor="unknown", cause="unknown", fatalities=0), [event], "first").verdicts
    assert not unscored["actor"].scored and not unscored["cause"].scored and not unscored["fatalities"].scored

    nothing = fakes.judge(_article(), [], "first").verdicts
    assert all(v.kind == "no event" for v in nothing.values())


FAKES_HEADER = ("unit_id,article_title,article_content,source,date,location,actor,cause_of_death,"
                "nb_children,nb_civilians,nb_noncivilians,nb_women,label\n")


@pytest.fixture
def fakes_csv(tmp_path):
    path = tmp_path / "fakes.csv"
    path.write_text(FAKES_HEADER
                    + '1,Strikes on Saraqib,"Monday 3 February 2020. Syrian government warplanes struck the town of '
                      'Saraqib in Idlib province on Monday, killing five civilians, a medic said.",test,2/3/20,idlib,'
                      'syrian government or russian troops,shelling,0,5,0,0,1\n'
                    + '2,Blast in Azaz,"Tuesday 4 February 2020. A car bomb exploded in the town of Azaz in Aleppo '
                      'province, killing three people, activists said.",test,2/4/20,aleppo,unknown,explosion,0,3,0,0,1\n',
                    encoding="utf-8")
    return path


def test_fakes_reader(fakes_csv):
    articles = fakes.read_csv(fakes_csv)
    assert [a.date for a in articles] == [date(2020, 2, 3), date(2020, 2, 4)]
    assert articles[0].fatalities == 5 and articles[1].actor == "unknown"


def test_fakes_command_prints_one_json_object(fakes_csv):
    result = runner.invoke(app, ["eval", "fakes", str(fakes_csv), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert all(0.0 <= data[k] <= 1.0 for k in FAKES_KEYS)
    assert data["articles"] == 2 and data["counts"]["actor"]["scored"] == 1
    assert data["governorate_acc"] == 1.0


def test_fakes_command_table(fakes_csv):
    result = runner.invoke(app, ["eval", "fakes", str(fakes_csv)])
    assert result.exit_code == 0, result.output
    assert "governorate_acc" in result.stdout


# -- the real benchmark files (../shared) ------------------------------------------------------------

@pytest.mark.shared
def test_case2021_dev():
    if not CASE_DEV.exists():
        pytest.skip("../shared is not here: CASE 2021 dev is not available")
    # The first 150 snippets keep this test short; `kharita eval case2021` runs all 516.
    result = case2021.run(CASE_DEV, limit=150)
    for scope in ("acled25", "all30"):
        assert all(0.0 <= result[scope][k] <= 1.0 for k in AVERAGES)
    assert result["snippets"] == 150


@pytest.mark.shared
def test_fakes_dev():
    if not FAKES_DEV.exists():
        pytest.skip("../shared is not here: FA-KES dev is not available")
    result = fakes.run(FAKES_DEV)
    assert all(0.0 <= result[k] <= 1.0 for k in FAKES_KEYS)
    assert result["articles"] == 161
    json.dumps(result)  # the JSON the command prints


def test_date_ceiling_counts_articles_whose_text_gives_the_coded_day():
    # The text names the 3rd (the coded day) in one article and only the 20th in the other,
    # so no date choice can get the second right: the ceiling is one half.
    named = _article(text="Monday 3 February 2020. Warplanes struck Saraqib.", date=date(2020, 2, 3))
    elsewhere = _article(text="Thursday 20 February 2020. Warplanes struck Saraqib.", date=date(2020, 2, 3))
    undated = _article(text="Warplanes struck Saraqib.", date=None)  # no gold date: not counted
    articles = [named, elsewhere, undated]
    assert fakes.date_ceiling(articles, [fakes.report_for(a) for a in articles]) == 0.5
