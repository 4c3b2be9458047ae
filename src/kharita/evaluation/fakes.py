"""`kharita eval fakes FILE.csv`: the main event of Syrian-war articles against FA-KES codings.

FA-KES (Salem et al. 2019) codes each article's main event: governorate (`location`),
perpetrator (`actor`), `cause_of_death`, casualty counts and `date`. Each article goes
through the normal pipeline (events need a place), as `kharita ingest` would take it:
the text is `article_content`, the title and outlet are metadata, and the publication
date, which the CSV does not give, is the text's latest explicit date, marked inferred.

Main event of an article: `first` by default (the event whose first trigger comes
first: headline and lead); `fatalities` (most fatalities, then the first), `precedence`
and `most-cited` are measured beside it (`alternatives` in the JSON; see
`metrics.MAIN_EVENT`). `first` scored best on four of the five fields of FA-KES dev;
`fatalities` suffers from stray large figures (population counts, historic tolls).

Fields, each a share of the scored articles; an article without any event counts as a
miss in every field it is scored on:

- `governorate_acc`: the event's admin1 (in Syria) equals `location` after normalising
  FA-KES spellings (`GOVERNORATES`, compared through `names.name_key`). Strict: Damascus
  and Rif Dimashq are different; `governorate_acc_damascus_merged` merges them.
- `cause_acc`: `cause_of_death` against the sub-event type (`CAUSES`); "unknown" is
  not scored.
- `actor_acc`: `actor` against the side of the event's actor1 (`actor_category`);
  articles coded "unknown" are not scored (`actor_unknown` says what we gave them).
- `fatalities_exact`: event fatalities == nb_civilians + nb_noncivilians, only where
  that sum is above zero.
- `date_acc`: event date within one day of `date` (m/d/yy).

`date_ceiling` bounds `date_acc` from above: the share of dated articles where some day
the text gives (any date expression, resolved, or the inferred publication date) is
within a day of the coded date. No choice of main event or date can beat it; what is
left above it needs a date the text does not give (FA-KES codes many articles a week or
more after the days they name).
"""
from __future__ import annotations

import csv
import json
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..names import name_key
from . import app
from .metrics import MAIN_EVENT, MAIN_EVENT_HELP, main_event, truncate

DEFAULT_MAIN = "first"
FIELDS = ("governorate", "cause", "actor", "fatalities", "date")
EXAMPLES_PER_KIND = 3

# Our admin1 names for Syria (countrystatecity) and the spellings FA-KES and the press use.
GOVERNORATES: dict[str, tuple[str, ...]] = {
    "Aleppo": ("aleppo", "halab"),
    "Al-Hasakah": ("hasakeh", "hasakah", "hassakeh", "hasaka", "al-hasakah", "hassake"),
    "Al-Raqqah": ("raqqa", "raqqah", "al-raqqah", "rakka"),
    "As-Suwayda": ("suwayda", "sweida", "suwaida", "as-suwayda", "sweida"),
    "Damascus": ("damascus", "dimashq"),
    "Daraa": ("daraa", "deraa", "dara'a", "deraa"),
    "Deir ez-Zor": ("deir ezzor", "deir ez-zor", "deir el-zour", "deir al-zor", "deir ezzour", "deir el-zor"),
    "Hama": ("hama", "hamah"),
    "Homs": ("homs", "hims"),
    "Idlib": ("idlib", "idleb"),
    "Latakia": ("lattakia", "latakia", "latakiyah"),
    "Quneitra": ("quneitra", "qunaitra", "kuneitra"),
    "Rif Dimashq": ("rif dimashq", "damascus suburbs", "rural damascus", "damascus countryside", "reef damascus"),
    "Tartus": ("tartus", "tartous"),
}

# cause_of_death -> sub-event types that code it ("unknown": not scored).
CAUSES: dict[str, frozenset[str]] = {
    "shelling": frozenset({"Air/drone strike", "Shelling/artillery/missile attack"}),
    "explosion": frozenset({"Remote explosive/landmine/IED", "Suicide bomb", "Air/drone strike", "Grenade"}),
    "chemical and toxic gases": frozenset({"Chemical weapon"}),
    "shooting": frozenset({"Armed clash", "Attack"}),
    "execution": frozenset({"Attack"}),
}

# FA-KES actor values -> categories; our actors map to the same categories (`actor_category`).
ACTORS: dict[str, str | None] = {
    "syrian government or russian troops": "government",
    "international coalition forces": "coalition",
    "the organization of the islamic state in iraq and the levant - isis": "isis",
    "armed opposition groups": "opposition",
    "al-nusra front": "nusra",
    "self administration forces": "kurdish",
    "unknown": None,
}
_JIHADIST = (("Islamic State", "isis"), ("Hayat Tahrir", "nusra"), ("Nusra", "nusra"), ("Al Qaeda", "nusra"))


@dataclass(slots=True)
class Article:
    unit_id: str
    title: str
    text: str
    source: str
    date: date | None
    location: str
    actor: str
    cause: str
    fatalities: int
    label: str = ""


def _int(value) -> int:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return 0


def read_csv(path: Path) -> list[Article]:
    from ..dates import parse_published

    csv.field_size_limit(sys.maxsize)
    with open(path, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    missing = {"article_content", "date", "location", "actor", "cause_of_death"} - set(rows[0] if rows else {})
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
    return [Article(
        unit_id=str(r.get("unit_id", i)), title=r.get("article_title") or "", text=r["article_content"] or "",
        source=r.get("source") or "", date=parse_published(r["date"]), location=(r["location"] or "").strip(),
        actor=(r["actor"] or "").strip().lower(), cause=(r["cause_of_death"] or "").strip().lower(),
        fatalities=_int(r.get("nb_civilians")) + _int(r.get("nb_noncivilians")), label=r.get("label") or "",
    ) for i, r in enumerate(rows)]


def report_for(article: Article):
    """The article as ingest makes it: headline first, publication date inferred from the text."""
    from ..dates import latest_explicit_date
    from ..models import Report

    from ..ingest.common import with_headline

    text = with_headline(article.title, article.text)
    return Report.create(text, title=article.title or None, outlet=article.source or None,
                         published=latest_explicit_date(text), published_inferred=True)


# -- normalisation -----------------------------------------------------------------------------

@cache
def _governorate_keys() -> dict[str, str]:
    keys = {}
    for admin1, spellings in GOVERNORATES.items():
        for s in (admin1, *spellings):
            keys[name_key(s)] = admin1
    return keys


def governorate(value: str) -> str | None:
    """Our admin1 name for a FA-KES (or gazetteer) spelling of a Syrian governorate."""
    return _governorate_keys().get(name_key(value or "")) if value else None


def event_governorate(event) -> str | None:
    if event is None or event.country != "Syria":
        return None
    return governorate(event.admin1)


def cause_matches(cause: str, sub_event_type: str) -> bool | None:
    """Whether the type codes the cause; None when the cause is not scored."""
    types = CAUSES.get(cause)
    return None if types is None else sub_event_type in types


def gold_actor(value: str) -> str | None:
    value = (value or "").strip().lower()
    if value in ACTORS:
        return ACTORS[value]
    for word, category in (("isis", "isis"), ("nusra", "nusra"), ("coalition", "coalition"),
                           ("government", "government"), ("russia", "government"), ("opposition", "opposition"),
                           ("self administration", "kurdish"), ("kurd", "kurdish")):
        if word in value:
            return category
    return None


@cache
def _side_table() -> tuple[dict[str, str], list[tuple[re.Pattern, str]]]:
    """ACLED actor names of actors.yaml -> side; `{country}` names as patterns."""
    from ..lexicon import load_data

    exact: dict[str, str] = {}
    patterns: list[tuple[re.Pattern, str]] = []
    for pack in load_data("actors.yaml")["packs"].values():
        for spec in pack["actors"]:
            name, side = spec["name"], spec["side"]
            if "{country}" in name:
                head, tail = name.split("{country}", 1)
                patterns.append((re.compile("^" + re.escape(head.rstrip(" (")) + r"(?: \(?(.*?)\)?)?" + re.escape(tail.lstrip(")")) + "$"), side))
            else:
                exact.setdefault(name, side)
    return exact, patterns


@cache
def _country_codes() -> dict[str, str]:
    from ..actors import country_names

    return {name: code for code, name in country_names().items()}


_STATE = re.compile(r"^(?:Military|Police) Forces of (.+)$")
_YEARS = re.compile(r" \(\d{4}-\d{0,4}\)")


def actor_side(name: str, event_country: str) -> str | None:
    """Side (actors.yaml) of an ACLED actor name in an event in `event_country` (a name)."""
    from ..actors import acled_state_force_names, external_sides

    if not name:
        return None
    exact, patterns = _side_table()
    if name in exact:
        return exact[name]
    codes = _country_codes()
    here = codes.get(event_country, "")
    state_names = {v: k for k, v in acled_state_force_names().items()}
    code = state_names.get(name)
    if code is None and (m := _STATE.match(name)):
        rest = _YEARS.sub("", m.group(1))  # "Iran (1989-) Islamic Revolutionary Guard Corps"
        heads = [n for n in codes if rest == n or rest.startswith(n + " ")]
        code = codes[max(heads, key=len)] if heads else None
    if code is not None:
        return "government" if code == here else external_sides(here).get(code, "external")
    for pattern, side in patterns:
        if pattern.match(name):
            return side
    return None


def actor_category(name: str, event_country: str) -> str | None:
    """FA-KES category of our actor: government, coalition, isis, nusra, opposition, kurdish.

    An event whose place did not resolve has no country: FA-KES is about Syria, so its
    foreign forces take their Syrian sides (Russia: government)."""
    side = actor_side(name, event_country or "Syria")
    if side == "jihadist":
        return next((cat for word, cat in _JIHADIST if word.lower() in name.lower()), "jihadist")
    return side if side in {"government", "coalition", "opposition", "kurdish"} else None


# -- judging one article -----------------------------------------------------------------------

@dataclass(slots=True)
class Verdict:
    scored: bool
    ok: bool = False
    kind: str = ""       # error kind, "" when ok
    detail: str = ""     # gold -> ours
    elsewhere: str = ""  # "another event": the right value is in another of the article's events; "sum": in their sum


@dataclass(slots=True)
class Judged:
    article: Article
    events: list
    main: object
    verdicts: dict[str, Verdict] = field(default_factory=dict)


def _elsewhere(events, test) -> str:
    return "another event" if any(test(e) for e in events) else ""


def _judge_governorate(article: Article, events: list, e) -> Verdict:
    gold = governorate(article.location)
    if gold is None:
        return Verdict(False, kind="unscored", detail=article.location)
    if e is None:
        return Verdict(True, kind="no event")
    got = event_governorate(e)
    if got == gold:
        return Verdict(True, True)
    if not e.country:
        kind = "place not resolved (no country)"
    elif e.country != "Syria":
        kind = "placed outside Syria"
    elif not got:
        kind = "placed at country level (Syria)"
    elif {gold, got} == {"Damascus", "Rif Dimashq"}:
        kind = "Damascus vs Rif Dimashq"
    else:
        kind = "wrong governorate"
    ours = got or (e.country if e.country and e.country != "Syria" else "?")
    return Verdict(True, False, kind, f"{gold} -> {ours} ({e.location})",
                   _elsewhere(events, lambda x: event_governorate(x) == gold))


def _judge_cause(article: Article, events: list, e) -> Verdict:
    if article.cause not in CAUSES:
        return Verdict(False, kind="unscored", detail=article.cause)
    if e is None:
        return Verdict(True, kind="no event")
    if cause_matches(article.cause, e.sub_event_type):
        return Verdict(True, True)
    return Verdict(True, False, "wrong sub-event type", f"{article.cause} -> {e.sub_event_type}",
                   _elsewhere(events, lambda x: cause_matches(article.cause, x.sub_event_type)))


def _judge_actor(article: Article, events: list, e) -> Verdict:
    gold = gold_actor(article.actor)
    if gold is None:
        ours = "no event" if e is None else "no actor1" if not e.actor1 else \
            actor_category(e.actor1, e.country) or "actor1 of no side"
        return Verdict(False, kind="unscored", detail=ours)
    if e is None:
        return Verdict(True, kind="no event")
    got = actor_category(e.actor1, e.country)
    if got == gold:
        return Verdict(True, True)
    kind = "no actor1" if not e.actor1 else "actor1 of no side (civilians, unidentified...)" if got is None \
        else "wrong side"
    return Verdict(True, False, kind, f"{gold} -> {got or e.actor1 or '-'}",
                   _elsewhere(events, lambda x: actor_category(x.actor1, x.country) == gold))


def _judge_fatalities(article: Article, events: list, e) -> Verdict:
    if article.fatalities <= 0:
        return Verdict(False, kind="unscored")
    if e is None:
        return Verdict(True, kind="no event")
    if e.fatalities == article.fatalities:
        return Verdict(True, True)
    kind = "no figure" if e.fatalities == 0 else "too low" if e.fatalities < article.fatalities else "too high"
    elsewhere = _elsewhere(events, lambda x: x.fatalities == article.fatalities)
    if not elsewhere and len(events) > 1 and sum(x.fatalities for x in events) == article.fatalities:
        elsewhere = "sum"
    return Verdict(True, False, kind, f"{article.fatalities} -> {e.fatalities}", elsewhere)


def _judge_date(article: Article, events: list, e) -> Verdict:
    if article.date is None:
        return Verdict(False, kind="unscored")
    if e is None:
        return Verdict(True, kind="no event")
    off = (e.event_date - article.date).days
    if abs(off) <= 1:
        return Verdict(True, True)
    if not e.evidence.get("event_date"):
        kind = "no date in the text (dated today)" if e.event_date == date.today() \
            else "dated by the inferred publication date"
    else:
        kind = "text date off by 2-7 days" if abs(off) <= 7 else "text date off by 8-31 days" \
            if abs(off) <= 31 else "text date off by over a month"
    return Verdict(True, False, kind, f"{article.date} -> {e.event_date} ({off:+d} d)",
                   _elsewhere(events, lambda x: abs((x.event_date - article.date).days) <= 1))


_JUDGES = {"governorate": _judge_governorate, "cause": _judge_cause, "actor": _judge_actor,
           "fatalities": _judge_fatalities, "date": _judge_date}


def judge(article: Article, events: list, strategy: str) -> Judged:
    e = main_event(events, strategy)
    out = Judged(article, events, e)
    for name in FIELDS:
        out.verdicts[name] = _JUDGES[name](article, events, e)
    return out


def _key(name: str) -> str:
    return "fatalities_exact" if name == "fatalities" else f"{name}_acc"


def _share(judged: list[Judged], name: str) -> tuple[float, int, int]:
    scored = [j.verdicts[name] for j in judged if j.verdicts[name].scored]
    hits = sum(v.ok for v in scored)
    return (round(hits / len(scored), 4) if scored else 0.0), hits, len(scored)


def score(articles: list[Article], found: list[list], strategy: str) -> dict:
    judged = [judge(a, events, strategy) for a, events in zip(articles, found)]
    result: dict = {}
    counts: dict = {}
    for name in FIELDS:
        result[_key(name)], hits, n = _share(judged, name)
        counts[name] = {"correct": hits, "scored": n}
    merged = [j for j in judged if j.verdicts["governorate"].scored]
    ok = sum(j.verdicts["governorate"].ok or j.verdicts["governorate"].kind == "Damascus vs Rif Dimashq" for j in merged)
    result["governorate_acc_damascus_merged"] = round(ok / len(merged), 4) if merged else 0.0
    result["counts"] = counts
    result["_judged"] = judged
    return result


def _breakdown(judged: list[Judged]) -> dict:
    """Per field: error kinds (count, how many have the right value in another event, examples)
    and the commonest gold -> ours pairs."""
    out = {}
    for name in FIELDS:
        kinds: Counter = Counter()
        elsewhere: Counter = Counter()
        pairs: Counter = Counter()
        examples: dict[str, list] = {}
        for j in judged:
            v = j.verdicts[name]
            if not v.scored or v.ok:
                continue
            kinds[v.kind] += 1
            elsewhere[v.kind] += bool(v.elsewhere)
            if v.detail and name != "date":
                pairs[re.sub(r" \(.*\)$", "", v.detail)] += 1
            if len(examples.setdefault(v.kind, [])) < EXAMPLES_PER_KIND:
                examples[v.kind].append({
                    "unit_id": j.article.unit_id, "title": truncate(j.article.title, 90), "detail": v.detail,
                    "elsewhere": v.elsewhere,
                    "events": [f"{e.sub_event_type} @ {e.location or '?'} ({e.admin1 or e.country or '-'})"
                               f"{' ' + str(e.fatalities) + ' killed' if e.fatalities else ''}"
                               f"{' by ' + e.actor1 if e.actor1 else ''}" for e in j.events[:4]]})
        errors = sum(kinds.values())
        out[name] = {
            "errors": errors,
            "right_value_in_another_event": sum(elsewhere.values()),
            "kinds": [{"kind": k, "count": n, "share": round(n / errors, 3), "right_value_elsewhere": elsewhere[k],
                       "examples": examples[k]} for k, n in kinds.most_common()],
            "pairs": dict(pairs.most_common(10)),
        }
    return out


def date_ceiling(articles: list[Article], reports: list) -> float:
    """Share of dated articles where some day the text gives is within one day of the gold."""
    from ..dates import find_dates

    dated = [(a, r) for a, r in zip(articles, reports) if a.date is not None]
    reachable = 0
    for article, report in dated:
        days = [m.value for m in find_dates(report.text, report.published)]
        if report.published is not None:
            days.append(report.published)
        reachable += any(abs((day - article.date).days) <= 1 for day in days)
    return round(reachable / len(dated), 4) if dated else 0.0


def run(path: Path, strategy: str = DEFAULT_MAIN, limit: int | None = None) -> dict:
    from ..pipeline import Pipeline

    articles = read_csv(path)[:limit]
    pipeline = Pipeline()
    pipeline(report_for(Article("", "", "Warplanes struck Saraqib in Idlib on Monday.", "", None, "", "", "", 0)))
    found, reports = [], []
    start = time.perf_counter()
    for article in articles:
        report = report_for(article)
        reports.append(report)
        found.append(pipeline(report))
    elapsed = time.perf_counter() - start

    alternatives = {}
    for name in MAIN_EVENT:
        sc = score(articles, found, name)
        alternatives[name] = {k: v for k, v in sc.items() if k.endswith(("_acc", "_exact"))}
    result = score(articles, found, strategy)
    judged = result.pop("_judged")

    unknown_actor = Counter(j.verdicts["actor"].detail for j in judged if not j.verdicts["actor"].scored)
    pub_ok = sum(1 for a, r in zip(articles, reports) if a.date and r.published and abs((r.published - a.date).days) <= 1)
    any_gov = sum(1 for j in judged if j.verdicts["governorate"].scored and
                  governorate(j.article.location) in {event_governorate(x) for x in j.events})
    n_gov = result["counts"]["governorate"]["scored"]
    result.update({
        "main_event": strategy,
        "alternatives": alternatives,
        "articles": len(articles),
        "no_event": sum(1 for events in found if not events),
        "events_per_article": round(sum(map(len, found)) / len(articles), 2) if articles else 0.0,
        "undated_reports": sum(1 for r in reports if r.published is None),
        "publication_date_acc": round(pub_ok / sum(1 for a in articles if a.date), 4) if articles else 0.0,
        "date_ceiling": date_ceiling(articles, reports),
        "governorate_any_event": round(any_gov / n_gov, 4) if n_gov else 0.0,
        "actor_unknown": dict(unknown_actor.most_common()),
        "seconds": round(elapsed, 2),
        "docs_per_s": round(len(articles) / elapsed, 1) if elapsed else 0.0,
        "breakdown": _breakdown(judged),
    })
    return result


# -- the command ------------------------------------------------------------------------------

def print_report(result: dict, console: Console) -> None:
    table = Table(title=f"FA-KES: {result['articles']} articles, main event = {result['main_event']}")
    for column in ("field", "score", "correct / scored", "by main-event choice"):
        table.add_column(column, justify="left" if column in ("field", "by main-event choice") else "right")
    for name in FIELDS:
        key = _key(name)
        c = result["counts"][name]
        alts = "  ".join(f"{k} {v[key]:.3f}" for k, v in result["alternatives"].items())
        table.add_row(key, f"{result[key]:.3f}", f"{c['correct']} / {c['scored']}", f"[dim]{alts}[/dim]")
    console.print(table)
    console.print(
        f"{result['no_event']} article(s) gave no event ({result['events_per_article']} events per article); "
        f"{result['undated_reports']} had no explicit date; inferred publication date within a day of the gold "
        f"date: {result['publication_date_acc']:.2f}; some date the text gives within a day of the gold "
        f"(the ceiling of date_acc): {result['date_ceiling']:.2f}; some event in the right governorate: "
        f"{result['governorate_any_event']:.2f}; Damascus = Rif Dimashq: {result['governorate_acc_damascus_merged']:.2f}; "
        f"{result['docs_per_s']} articles/s.", highlight=False)
    if result["actor_unknown"]:
        console.print("Actor coded 'unknown' (not scored), ours: "
                      + ", ".join(f"{k} {n}" for k, n in result["actor_unknown"].items()), highlight=False)
    for name in FIELDS:
        b = result["breakdown"][name]
        if not b["errors"]:
            continue
        console.print(f"\n[bold]{name}[/bold]: {b['errors']} error(s); in {b['right_value_in_another_event']} "
                      "of them another event of the article has the right value")
        for kind in b["kinds"]:
            elsewhere = f"  ({kind['right_value_elsewhere']} right elsewhere)" if kind["right_value_elsewhere"] else ""
            console.print(f"  {kind['count']:3d}  {kind['share']:4.0%}  {kind['kind']}{elsewhere}", highlight=False)
            for ex in kind["examples"][:2]:
                events = "; ".join(ex["events"]) or "-"
                console.print(f"         #{ex['unit_id']} {ex['title']!r}: {ex['detail']}  [{events}]",
                              highlight=False, markup=False)
        if b["pairs"]:
            console.print("  commonest gold -> ours: " + "; ".join(f"{p} ({n})" for p, n in b["pairs"].items()),
                          highlight=False)


@app.command("fakes")
def fakes_command(
    path: Annotated[Path, typer.Argument(help="FA-KES CSV (article_content, date, location, actor, cause_of_death, nb_*).",
                                         exists=True, dir_okay=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    limit: Annotated[int | None, typer.Option("--limit", help="Only the first N articles.")] = None,
    strategy: Annotated[str | None, typer.Option(
        "--main", help="Main event of an article: " + "; ".join(f"{k}: {v}" for k, v in MAIN_EVENT_HELP.items()))] = None,
) -> None:
    """Main event of FA-KES articles: governorate, cause, actor, fatalities and date accuracy."""
    strategy = strategy or DEFAULT_MAIN
    if strategy not in MAIN_EVENT:
        raise typer.BadParameter(f"choose one of {', '.join(MAIN_EVENT)}", param_hint="--main")
    try:
        result = run(path, strategy, limit)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="FILE") from None
    if as_json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False, default=str) + "\n")
        return
    print_report(result, Console(width=None if sys.stdout.isatty() else 200))
