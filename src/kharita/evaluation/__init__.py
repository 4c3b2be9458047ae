"""`kharita eval ...`: measure each stage on public benchmark data (never shipped with Kharita).

Each benchmark is a module with a `run(...)` function returning a plain dict of figures
and a typer command registered on `app` below.
"""
from __future__ import annotations

import typer

app = typer.Typer(help="Measure Kharita on public benchmark data.", no_args_is_help=True)

from . import case2021  # noqa: E402,F401  (registers `kharita eval case2021`)
from . import geoparse  # noqa: E402,F401  (registers `kharita eval geoparse`)
from . import fakes  # noqa: E402,F401  (registers `kharita eval fakes`)
from . import dedup  # noqa: E402,F401  (registers `kharita eval merge`)
