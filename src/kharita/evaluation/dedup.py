"""`kharita eval merge`: do reports of the same happening end up in one event?

On FA-KES, two articles are the same happening when they share date, governorate,
cause of death and casualty figures (the gold). Each article is ingested into a fresh
store through the real merge path; two articles are predicted the same when their main
events (the `first` strategy of `kharita eval fakes`) landed in one merged event.
Scores are pairwise precision and recall over article pairs.
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from collections import defaultdict
from itertools import combinations
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from . import app
from .fakes import read_csv, report_for
from .metrics import main_event

GOLD_KEYS = {
    "strict": ("date", "location", "cause", "figures"),  # the definition
    "no_figures": ("date", "location", "cause"),  # looser, for context
}


def _gold_key(row: dict, fields: tuple[str, ...]) -> tuple:
    return tuple(row[f] for f in fields)


def _pairs(groups: dict) -> set[tuple[int, int]]:
    return {pair for members in groups.values() for pair in combinations(sorted(members), 2)}


def _prf(predicted: set, gold: set) -> dict:
    hit = len(predicted & gold)
    return {
        "pair_precision": round(hit / len(predicted), 4) if predicted else 1.0,
        "pair_recall": round(hit / len(gold), 4) if gold else 1.0,
        "predicted_pairs": len(predicted), "gold_pairs": len(gold), "correct_pairs": hit,
    }


def run(path: Path, limit: int | None = None) -> dict:
    from ..pipeline import Pipeline
    from ..store import Store

    articles = read_csv(path)[:limit]
    rows = [{"date": a.date, "location": a.location.lower(), "cause": a.cause,
             "figures": (a.fatalities,)} for a in articles]
    pipeline = Pipeline()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "merge.db")
        started = time.perf_counter()
        mains: list[str | None] = []
        for article in articles:
            report = report_for(article)
            doc = pipeline.annotate(report)
            store.add(report, doc.events, doc.control)
            main = main_event(doc.events, "first")
            mains.append(main.event_id_cnty if main else None)
        seconds = time.perf_counter() - started
        merged = [store.event_of_mention(m) if m else None for m in mains]
        counts = store.counts()
        store.close()
    predicted_groups: dict[str, list[int]] = defaultdict(list)
    for index, event_id in enumerate(merged):
        if event_id is not None:
            predicted_groups[event_id].append(index)
    predicted = _pairs(predicted_groups)
    result: dict = {}
    for name, fields in GOLD_KEYS.items():
        gold_groups: dict[tuple, list[int]] = defaultdict(list)
        for index, row in enumerate(rows):
            if row["date"] is not None:
                gold_groups[_gold_key(row, fields)].append(index)
        scores = _prf(predicted, _pairs(gold_groups))
        if name == "strict":
            result.update(scores)
        else:
            result[f"gold_{name}"] = scores
    result.update({"articles": len(articles), "mentions": counts["mentions"], "events": counts["events"],
                   "reports_per_s": round(len(articles) / seconds, 1)})
    return result


@app.command("merge")
def merge_command(
    path: Annotated[Path, typer.Argument(help="FA-KES CSV (e.g. ../shared/eval/fakes/dev.csv).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    limit: Annotated[Optional[int], typer.Option(help="Only the first N articles.")] = None,
) -> None:
    """Pairwise precision and recall of merging on FA-KES (same date, governorate, cause, figures)."""
    if not path.exists():
        raise typer.BadParameter(f"{path} not found", param_hint="PATH")
    result = run(path, limit)
    if as_json:
        sys.stdout.write(json.dumps(result) + "\n")
        return
    table = Table(title=f"merge on {path.name}: {result['articles']} articles, {result['mentions']} mentions "
                        f"-> {result['events']} events")
    for column in ("gold", "pair precision", "pair recall", "predicted", "gold pairs", "correct"):
        table.add_column(column)
    for name, scores in (("date+governorate+cause+figures", result),
                         ("date+governorate+cause", result["gold_no_figures"])):
        table.add_row(name, f"{scores['pair_precision']:.3f}", f"{scores['pair_recall']:.3f}",
                      str(scores["predicted_pairs"]), str(scores["gold_pairs"]), str(scores["correct_pairs"]))
    Console().print(table)
