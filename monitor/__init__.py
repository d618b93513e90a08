"""cdi-monitor: the recording clock for crime-related incidents (NCRS 24-hour rule)."""

__version__ = "0.1.0"
