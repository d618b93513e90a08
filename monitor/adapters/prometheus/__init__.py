"""Prometheus: the metrics the monitor exports, in base units, with capped label values."""
