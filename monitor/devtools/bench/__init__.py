"""``cdi-monitor bench``: throughput, ceiling, latency, alert delay and memory, in one run.

See ``docs/benchmarks.md`` for what each figure means and how it is measured.
"""
