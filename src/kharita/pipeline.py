"""The pipeline: a report in, an annotated `Doc` with its events out.

    text -> places -> dates -> actors -> casualties, tallies -> events -> health, control

Each stage is a module with one job that reads the report text and earlier
annotations and adds its own (see docs/ARCHITECTURE.md). Dictionaries and the
gazetteer are loaded once per process and shared by every report.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from . import actors, casualties, control, dates, events, health, merge, places, tallies, text
from .doc import Doc, Place, PlaceMention
from .gazetteer import Gazetteer, default_gazetteer
from .lexicon import fold, preload_all
from .models import Event, Report


class Pipeline:
    """Runs every stage over reports. Create one and reuse it."""

    def __init__(self, gazetteer: Gazetteer | None = None, keep_unlocated: bool = False) -> None:
        """`keep_unlocated` keeps events whose place the text does not give (snippet
        classification wants them; an ACLED dataset does not)."""
        self.gazetteer = gazetteer or default_gazetteer()
        self.keep_unlocated = keep_unlocated
        preload_all()  # dictionaries and patterns now, not on the first report needing one

    def annotate(self, report: Report) -> Doc:
        doc = Doc(report)
        folded = fold(report.text)
        text.annotate(doc)
        places.find_places(doc, self.gazetteer, demonyms=True)  # "a Syrian town": a last-resort place
        doc.dates = dates.find_dates(report.text, report.published)
        actors.annotate(doc, folded)
        casualties.annotate(doc, folded)
        tallies.annotate(doc, folded)
        events.annotate(doc, folded, self.locate, self.gazetteer.country_info, self.keep_unlocated)
        # "Strikes in Idlib province" and "strikes on Khan Sheikhoun" the same day: one event.
        doc.events = merge.collapse_nested(doc.events)
        health.annotate(doc, folded)
        doc.control = control.annotate(doc, folded, self.locate)
        return doc

    def __call__(self, report: Report) -> list[Event]:
        return self.annotate(report).events

    def run(self, reports: Iterable[Report]) -> Iterator[tuple[Report, list[Event]]]:
        for report in reports:
            yield report, self(report)

    def locate(self, mention: PlaceMention, regions: list[PlaceMention]) -> tuple[
            float | None, float | None, int | None, Place | None]:
        """Coordinates, ACLED geo_precision and gazetteer entry for an event's place.

        An unknown place that the text ties to no known one falls back on a region
        named in the same sentence ("... in southern Idlib Province, near the village
        of Abdin"): its admin1 centroid, geo_precision 3.
        """
        lat, lon, precision, entry = places.locate(mention)
        if lat is None:
            region = next((r for r in regions if r.place is not None), None)
            if region is not None:
                return region.place.latitude, region.place.longitude, 3, region.place
        return lat, lon, precision, entry


def extract(report: Report) -> list[Event]:
    """Events of one report, with the default gazetteer: `kharita.extract(report)`."""
    return _default_pipeline()(report)


_pipeline: Pipeline | None = None


def _default_pipeline() -> Pipeline:
    global _pipeline
    if _pipeline is None:
        _pipeline = Pipeline()
    return _pipeline
