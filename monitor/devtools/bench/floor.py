"""The Faust floor: a Faust agent that does nothing, with the worker's own app settings.

It reads the same input topics as the worker, through the same app
(``streams.app.faust_app``: the same consumer, fetch settings and the tuning
of ``monitor.adapters.faust.tuning``), the same raw topics and the worker's garbage
collection (``monitor.adapters.gc_tuning``), and only counts. What it reads a second
is what Faust itself costs on this machine: no worker built on Faust can read
faster. The benchmark compares the pipeline with it.

Run as ``python -m monitor.devtools.bench.floor EVENTS SECONDS OUT`` with the worker's
``CDI_*`` settings in the environment; it writes one JSON object to the file
``OUT`` (events counted, from the first to the last, and the seconds between;
Faust takes over standard output for its log) once it has
counted ``EVENTS``, ``SECONDS`` have passed since the first, or nothing more
came for 5 s.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import faust

from monitor.adapters.faust.tuning import RawSchema
from monitor.adapters.gc_tuning import tune_for_streaming
from monitor.adapters.kafka.topology import ensure_topics
from monitor.settings import load_settings
from streams.app import faust_app


def main(events: int, seconds: float, out: Path) -> None:
    settings = load_settings()
    topology = ensure_topics(settings)
    app = faust_app(settings, topology)
    topic = app.topic(topology.incidents, topology.crime_records, schema=RawSchema())
    counted = {"n": 0, "first": 0.0, "last": 0.0}

    def report() -> None:
        n, spent = counted["n"], counted["last"] - counted["first"]
        out.write_text(json.dumps({"events": n - 1, "seconds": spent}))
        os._exit(0)  # no orderly shutdown to wait for: the figure is all that is wanted

    @app.agent(topic, name="floor")
    async def floor(stream: faust.StreamT) -> None:
        async for _ in stream.events():
            now = time.perf_counter()
            if not counted["n"]:
                counted["first"] = now
            counted["n"] += 1
            counted["last"] = now
            if counted["n"] > events or now - counted["first"] > seconds:
                report()

    @app.timer(1.0, name="floor-idle")
    async def idle() -> None:
        # The topics ran dry before ``events``: what was read is the figure.
        if counted["n"] > 1 and time.perf_counter() - counted["last"] > 5.0:
            report()

    worker = faust.Worker(app, loglevel="WARNING", quiet=True)
    worker.spinner = None
    tune_for_streaming()  # as the worker does (monitor.bootstrap)
    worker.execute_from_commandline()


if __name__ == "__main__":
    main(int(sys.argv[1]), float(sys.argv[2]), Path(sys.argv[3]))
