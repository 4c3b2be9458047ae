"""Scoring helpers shared by the benchmarks: per-class precision/recall/F1 with micro,
macro and weighted averages, confusion counts, and which of a report's events is its
"main" one.

Small on purpose (no scikit-learn). The averages follow scikit-learn's definitions
for a fixed label set: a prediction outside the label set (e.g. "none") is a miss for
the gold class and a false positive for no class; micro F1 pools counts over the
labels; macro is the unweighted mean of per-class F1; weighted weights it by support.
Classes with neither gold support nor predictions are left out of the macro mean
(scikit-learn would count them as 0 with a warning).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ..lexicon import load_data
from ..models import Event

NONE = "none"


@dataclass(frozen=True, slots=True)
class ClassScore:
    precision: float
    recall: float
    f1: float
    support: int
    predicted: int

    def as_dict(self) -> dict:
        return {"precision": round(self.precision, 4), "recall": round(self.recall, 4),
                "f1": round(self.f1, 4), "support": self.support, "predicted": self.predicted}


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


def per_class(gold: Sequence[str], pred: Sequence[str], labels: Iterable[str]) -> dict[str, ClassScore]:
    """Precision, recall, F1, support and number predicted for each label."""
    if len(gold) != len(pred):
        raise ValueError("gold and predictions differ in length")
    support = Counter(gold)
    predicted = Counter(pred)
    hits = Counter(g for g, p in zip(gold, pred) if g == p)
    out = {}
    for label in labels:
        p = _ratio(hits[label], predicted[label])
        r = _ratio(hits[label], support[label])
        out[label] = ClassScore(p, r, _f1(p, r), support[label], predicted[label])
    return out


def averages(gold: Sequence[str], pred: Sequence[str], labels: Iterable[str]) -> dict[str, float]:
    """micro_f1, weighted_f1, macro_f1 (and micro precision/recall) over `labels`."""
    labels = list(dict.fromkeys(labels))
    scores = per_class(gold, pred, labels)
    tp = sum(1 for g, p in zip(gold, pred) if g == p and g in scores)
    n_pred = sum(s.predicted for s in scores.values())
    n_gold = sum(s.support for s in scores.values())
    micro_p, micro_r = _ratio(tp, n_pred), _ratio(tp, n_gold)
    active = [s for s in scores.values() if s.support or s.predicted]
    return {
        "micro_f1": round(_f1(micro_p, micro_r), 4),
        "weighted_f1": round(sum(s.f1 * s.support for s in active) / n_gold, 4) if n_gold else 0.0,
        "macro_f1": round(sum(s.f1 for s in active) / len(active), 4) if active else 0.0,
        "micro_precision": round(micro_p, 4),
        "micro_recall": round(micro_r, 4),
        "n": len(gold),
    }


def confusion(gold: Sequence[str], pred: Sequence[str]) -> dict[str, Counter]:
    """gold -> Counter of predictions."""
    table: dict[str, Counter] = {}
    for g, p in zip(gold, pred):
        table.setdefault(g, Counter())[p] += 1
    return table


# -- which event of a report is its main one -----------------------------------------------

def position(event: Event) -> int:
    """Where the event starts in the text: its first trigger (else its first cited span)."""
    spans = event.evidence.get("sub_event_type") or [s for v in event.evidence.values() for s in v]
    return min((s.start for s in spans), default=1 << 30)


def precedence_rank() -> dict[str, int]:
    """ACLED precedence (acled.yaml); chemical weapon use, coded as its own event, first."""
    data = load_data("acled.yaml")
    order = list(data.get("separate_events", [])) + list(data["precedence"])
    return {name: rank for rank, name in enumerate(order)}


def _first(events: Sequence[Event]) -> Event:
    return min(events, key=position)


def _precedence(events: Sequence[Event]) -> Event:
    rank = precedence_rank()
    return min(events, key=lambda e: (rank.get(e.sub_event_type, 99), position(e)))


def _fatalities(events: Sequence[Event]) -> Event:
    return min(events, key=lambda e: (-e.fatalities, position(e)))


def _most_cited(events: Sequence[Event]) -> Event:
    """The event told at greatest length: most evidence spans for its type and notes."""
    def weight(e: Event) -> int:
        return len(e.evidence.get("sub_event_type", [])) + len(e.evidence.get("notes", []))
    return min(events, key=lambda e: (-weight(e), position(e)))


MAIN_EVENT: dict[str, Callable[[Sequence[Event]], Event]] = {
    "first": _first,
    "precedence": _precedence,
    "fatalities": _fatalities,
    "most-cited": _most_cited,
}
MAIN_EVENT_HELP = {
    "first": "the event whose first trigger comes first in the text",
    "precedence": "the event of the highest ACLED precedence (chemical weapon first), then the first",
    "fatalities": "the event with most fatalities, then the first",
    "most-cited": "the event with most trigger and sentence evidence, then the first",
}


def main_event(events: Sequence[Event], strategy: str) -> Event | None:
    if not events:
        return None
    return MAIN_EVENT[strategy](events)


def truncate(text: str, width: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1].rsplit(" ", 1)[0] + " …"
