"""Blocking keys for merging in parallel: which mentions may ever meet.

The store merges one mention at a time (`Store.add`): a mention joins the closest
stored event of the same happening (`merge.same_happening`), found by blocking on
event type, a date window and a bounding box. Merging is incremental, so the result
depends on the order mentions arrive in; but two mentions can only affect each
other when they are near in type, time and place. This module cuts the mentions of a
backfill into *components* that provably never meet, so each component can be
replayed through the real store on its own, in the single process's order, and the
union of the replays is the single process's result.

Keys. A mention's cells are `(event_type, time bucket, geo key)`:

- time buckets are `TIME_BUCKET_DAYS` wide, more than the widest date window
  (31 days), so dates that can match fall in the same or adjacent buckets;
- geo keys are cubes of `GEO_CELL_KM` on the sphere in 3-D (earth-centred)
  coordinates, wider than the widest radius (120 km): a chord is never longer
  than its arc, so places that can match are in the same or adjacent cubes,
  with no trouble at the poles or the antimeridian. A mention without
  coordinates is found by its place name (`same_happening` compares names then),
  so a mention's place name is a geo key too.

Two cells are adjacent when they have the same type, buckets at most one apart and
adjacent cubes (or the same name). Components are the connected groups of occupied
cells (union-find on the driver: there are far fewer cells than mentions).

One subtlety makes a second pass necessary. A merged event compares with its date
taken from one mention and its place from another (`merge.combine`), so a mention
may match an event without being adjacent to any single mention of it. An event's
*footprint* is therefore every pairing of its mentions' buckets and geo keys;
after a replay, footprints that reach cells of another component join the two,
and the replay runs again until nothing joins (`close_components`). In practice one
replay suffices.
"""
from __future__ import annotations

import heapq
import json
import math
from collections.abc import Iterable, Mapping
from datetime import date

from .. import merge

# The widest date window `same_happening` allows, plus one: matching dates are in the
# same or adjacent buckets.
TIME_BUCKET_DAYS = max(max(merge.DATE_WINDOW_DAYS.values()), merge.PUBLICATION_DATE_SLACK_DAYS,
                       merge.date_window(None).days) + 1
# The widest radius, with a margin: matching places are in the same or adjacent cubes.
MAX_REACH_KM = max(max(merge.RADIUS_KM.values()), merge.NO_PRECISION_RADIUS_KM)
GEO_CELL_KM = MAX_REACH_KM * 1.25
EARTH_RADIUS_KM = 6371.0088  # as merge.km_between

GeoKey = tuple  # ("xyz", i, j, k) or ("name", lower-cased place name)
Cell = tuple  # (event_type, time bucket, GeoKey)


def cell_text(cell: Cell) -> str:
    """A cell as text (JSON), to travel in a Spark column; `cell_from_text` reads it back."""
    event_type, bucket, key = cell
    return json.dumps([event_type, bucket, list(key)], ensure_ascii=False)


def cell_from_text(text: str) -> Cell:
    event_type, bucket, key = json.loads(text)
    return event_type, bucket, tuple(key)


def time_bucket(day: date) -> int:
    return day.toordinal() // TIME_BUCKET_DAYS


def cube(latitude: float, longitude: float) -> GeoKey:
    """The cube of `GEO_CELL_KM` holding a point of the earth's surface."""
    phi, lam = math.radians(latitude), math.radians(longitude)
    x = EARTH_RADIUS_KM * math.cos(phi) * math.cos(lam)
    y = EARTH_RADIUS_KM * math.cos(phi) * math.sin(lam)
    z = EARTH_RADIUS_KM * math.sin(phi)
    return ("xyz", math.floor(x / GEO_CELL_KM), math.floor(y / GEO_CELL_KM), math.floor(z / GEO_CELL_KM))


def geo_keys(latitude: float | None, longitude: float | None, location: str) -> tuple[GeoKey, ...]:
    """A place's geo keys: its cube when it has coordinates, and its name."""
    keys: list[GeoKey] = []
    if latitude is not None and longitude is not None:
        keys.append(cube(latitude, longitude))
    if location:
        keys.append(("name", location.lower()))
    return tuple(keys)


def mention_cells(event_type: str, event_date: date, keys: Iterable[GeoKey]) -> tuple[Cell, ...]:
    bucket = time_bucket(event_date)
    return tuple((event_type, bucket, key) for key in keys)


def adjacent_geo_keys(key: GeoKey) -> list[GeoKey]:
    if key[0] == "name":
        return [key]
    _, i, j, k = key
    return [("xyz", i + di, j + dj, k + dk) for di in (-1, 0, 1) for dj in (-1, 0, 1) for dk in (-1, 0, 1)]


def adjacent_cells(cell: Cell) -> list[Cell]:
    """Every cell whose mentions could match a mention of `cell` (itself included)."""
    event_type, bucket, key = cell
    return [(event_type, bucket + dt, near) for dt in (-1, 0, 1) for near in adjacent_geo_keys(key)]


class UnionFind:
    """Disjoint sets over hashable items (path halving, union by size)."""

    def __init__(self) -> None:
        self.parent: dict = {}
        self.size: dict = {}

    def add(self, item) -> None:
        if item not in self.parent:
            self.parent[item] = item
            self.size[item] = 1

    def find(self, item):
        parent = self.parent
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    def union(self, a, b) -> bool:
        """Join the sets of a and b; True when they were apart."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]
        return True


def link_cells(mention_cell_sets: Iterable[tuple[Cell, ...]]) -> UnionFind:
    """Union-find over occupied cells: a mention's own cells are one set, and so are
    adjacent occupied cells."""
    sets = UnionFind()
    for cells in mention_cell_sets:
        for cell in cells:
            sets.add(cell)
        for cell in cells[1:]:
            sets.union(cells[0], cell)
    for cell in list(sets.parent):
        for near in adjacent_cells(cell):
            if near in sets.parent:
                sets.union(cell, near)
    return sets


def footprint(event_type: str, buckets: Iterable[int], keys: Iterable[GeoKey]) -> list[Cell]:
    """Every cell a merged event can be compared from: each of its mentions' buckets
    with each of its mentions' geo keys (its date and place may come from different
    mentions)."""
    keys = list(dict.fromkeys(keys))
    return [(event_type, bucket, key) for bucket in sorted(set(buckets)) for key in keys]


def close_components(sets: UnionFind, footprints: Iterable[tuple[Cell, list[Cell]]]) -> int:
    """Join components that a merged event's footprint reaches. `footprints` holds, for
    each event, one cell of its own and its footprint. Returns how many joins were made
    (0: the components were closed, and the replay stands)."""
    joins = 0
    for own, cells in footprints:
        for cell in cells:
            for near in adjacent_cells(cell):
                if near in sets.parent and sets.union(own, near):
                    joins += 1
    return joins


def component_ids(sets: UnionFind) -> dict[Cell, int]:
    """A small integer per component, for each occupied cell (stable for a given set of
    cells: components are numbered by their smallest cell)."""
    roots: dict = {}
    for cell in sorted(sets.parent, key=repr):
        roots.setdefault(sets.find(cell), len(roots))
    return {cell: roots[sets.find(cell)] for cell in sets.parent}


def assign_slots(sizes: Mapping[int, int], slots: int) -> dict[int, int]:
    """Components to `slots` partitions, largest first onto the least loaded one, so
    the replays (whose cost grows with a component's mentions) take about as long
    each; hashing component ids instead can leave the largest components together."""
    loads = [(0, slot) for slot in range(slots)]
    assigned: dict[int, int] = {}
    for component_id, size in sorted(sizes.items(), key=lambda item: (-item[1], item[0])):
        load, slot = heapq.heappop(loads)
        assigned[component_id] = slot
        heapq.heappush(loads, (load + size, slot))
    return assigned
