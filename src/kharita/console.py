"""The terminals every command writes to, in one place so all commands print alike.

Piped output (tests, `| less`, CI logs) gets a fixed width of 200 columns: rich would otherwise
assume 80 and fold the tables' columns. No syntax highlighting: numbers and names in the tables
are data, not code.
"""
from __future__ import annotations

import sys

from rich.console import Console

console = Console(width=None if sys.stdout.isatty() else 200, highlight=False)
errors = Console(stderr=True, highlight=False)
