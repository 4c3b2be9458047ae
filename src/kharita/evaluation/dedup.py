"""`kharita eval merge`: do reports of the same happening end up in one event?

FA-KES codes one event per article (its main one): date, governorate, cause of death
and casualty figures. Those codings can say that two articles tell one happening, or
that they tell two, but often neither, so the gold is three-valued:

- same: date, governorate, cause and figures all equal (the issue's definition);
- different: governorates differ, or causes differ (neither "unknown"), or the coded
  dates are more than `DIFFERENT_AFTER_DAYS` apart;
- undecided: the rest, i.e. same governorate and cause within a week but other figures
  or another day. Tolls rise and sources count differently, so these are often one
  happening (one gas attack coded at 58, 70, 86 and 100 dead) and sometimes two (two
  strikes on Aleppo in one week): the coding cannot tell.

`pair_recall` = same pairs we merge / same pairs; `pair_precision` = same pairs we merge
/ merged pairs the gold decides (same or different). Merged pairs the gold leaves
undecided are counted (`undecided_pairs`) and listed with `--pairs` for reading, not
scored: counting them as errors (as the strict definition alone would) scores every
merge of two reports that give different tolls as wrong, which is what reports of one
happening do.

Our pairs: every article goes through the pipeline into one store, in the CSV's order,
through the real merge path (`Store.add`). An article's event is the one FA-KES coded:
its first event (the `first` strategy of `kharita eval fakes`) among those in the coded
governorate and of the coded cause, so that the score measures merging and not the
choice of a main event (as coreference is scored on gold mentions). Two articles are
predicted the same when those events landed in one merged event. `end_to_end` scores
the `first` main event whatever its place and type.
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from itertools import combinations
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ..console import console
from ..models import Event
from . import app
from .fakes import (
    Article,
    cause_matches,
    event_governorate,
    governorate,
    read_csv,
    report_for,
)
from .metrics import main_event

DIFFERENT_AFTER_DAYS = 31  # coded dates further apart: two happenings (see the docstring)
SAME, DIFFERENT, UNDECIDED = "same", "different", "undecided"


def _governorate(article: Article) -> str:
    return governorate(article.location) or article.location.lower()


def gold_relation(a: Article, b: Article) -> str:
    """What FA-KES's codings say about two articles: same, different or undecided."""
    if _governorate(a) != _governorate(b):
        return DIFFERENT
    if a.cause != b.cause and "unknown" not in (a.cause, b.cause):
        return DIFFERENT
    if a.date is not None and b.date is not None and abs((a.date - b.date).days) > DIFFERENT_AFTER_DAYS:
        return DIFFERENT
    if a.date is not None and a.date == b.date and a.cause == b.cause and a.fatalities == b.fatalities:
        return SAME
    return UNDECIDED


def coded_event(article: Article, events: Sequence[Event]) -> Event | None:
    """The article's event that FA-KES coded: the first of those in its governorate and of
    its cause (any cause when that is "unknown"); None when no event fits."""
    where = governorate(article.location)
    fitting = [e for e in events if where is not None and event_governorate(e) == where
               and cause_matches(article.cause, e.sub_event_type) is not False]
    return main_event(fitting, "first")


def score(predicted: set[tuple[int, int]], relations: dict[tuple[int, int], str]) -> dict:
    """Pairwise precision over the pairs the gold decides, recall over its same pairs."""
    same = {pair for pair, relation in relations.items() if relation == SAME}
    hit = len(predicted & same)
    wrong = sum(1 for pair in predicted if relations[pair] == DIFFERENT)
    return {
        "pair_precision": round(hit / (hit + wrong), 4) if hit + wrong else 1.0,
        "pair_recall": round(hit / len(same), 4) if same else 1.0,
        "predicted_pairs": len(predicted), "gold_pairs": len(same), "correct_pairs": hit, "wrong_pairs": wrong,
        "undecided_pairs": len(predicted) - hit - wrong,
        "precision_if_undecided_wrong": round(hit / len(predicted), 4) if predicted else 1.0,
    }


def _predicted_pairs(event_ids: list[str | None]) -> set[tuple[int, int]]:
    groups: dict[str, list[int]] = defaultdict(list)
    for index, event_id in enumerate(event_ids):
        if event_id is not None:
            groups[event_id].append(index)
    return {pair for members in groups.values() for pair in combinations(members, 2)}


def run(path: Path, limit: int | None = None) -> dict:
    from ..pipeline import Pipeline
    from ..store import Store

    articles = read_csv(path)[:limit]
    pipeline = Pipeline()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "merge.db")
        started = time.perf_counter()
        coded: list[str | None] = []
        first: list[str | None] = []
        for article in articles:
            report = report_for(article)
            doc = pipeline.annotate(report)
            store.add(report, doc.events, doc.control)
            coded.append(getattr(coded_event(article, doc.events), "event_id_cnty", None))
            first.append(getattr(main_event(doc.events, "first"), "event_id_cnty", None))
        seconds = time.perf_counter() - started
        merged_coded = [store.event_of_mention(m) if m else None for m in coded]
        merged_first = [store.event_of_mention(m) if m else None for m in first]
        counts = store.counts()
        store.close()
    relations = {(i, j): gold_relation(articles[i], articles[j]) for i, j in combinations(range(len(articles)), 2)}
    predicted = _predicted_pairs(merged_coded)
    result = score(predicted, relations)
    result["end_to_end"] = score(_predicted_pairs(merged_first), relations)
    result["pairs"] = [{"articles": [articles[i].unit_id, articles[j].unit_id], "gold": relations[i, j],
                        "event": merged_coded[i]} for i, j in sorted(predicted)]
    result.update({"articles": len(articles), "articles_with_coded_event": sum(1 for m in coded if m),
                   "mentions": counts["mentions"], "events": counts["events"],
                   "reports_per_s": round(len(articles) / seconds, 1)})
    return result


@app.command("merge")
def merge_command(
    path: Annotated[Path, typer.Argument(help="FA-KES CSV (e.g. ../shared/eval/fakes/dev.csv).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    limit: Annotated[int | None, typer.Option(help="Only the first N articles.")] = None,
    pairs: Annotated[bool, typer.Option("--pairs", help="Also list the merged article pairs.")] = False,
) -> None:
    """Pairwise precision and recall of merging on FA-KES (same: date, governorate, cause, figures)."""
    if not path.exists():
        raise typer.BadParameter(f"{path} not found", param_hint="PATH")
    result = run(path, limit)
    if not pairs:
        result.pop("pairs")
    if as_json:
        sys.stdout.write(json.dumps(result) + "\n")
        return
    table = Table(title=f"merge on {path.name}: {result['articles']} articles, {result['mentions']} mentions "
                        f"-> {result['events']} events")
    for column in ("articles' event", "pair precision", "pair recall", "merged pairs",
                   "same / different / undecided", "gold pairs"):
        table.add_column(column)
    for name, scores in (("the coded one", result), ("the first (end to end)", result["end_to_end"])):
        table.add_row(name, f"{scores['pair_precision']:.3f}", f"{scores['pair_recall']:.3f}",
                      str(scores["predicted_pairs"]),
                      f"{scores['correct_pairs']} / {scores['wrong_pairs']} / {scores['undecided_pairs']}",
                      str(scores["gold_pairs"]))
    console.print(table)
    for pair in result.get("pairs", []):
        console.print(f"{pair['gold']:>9}  {' + '.join(pair['articles'])}  -> {pair['event']}")
