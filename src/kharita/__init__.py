"""Kharita: conflict news into evidence-backed, ACLED-compatible event data, offline."""
__version__ = "0.1.0"
