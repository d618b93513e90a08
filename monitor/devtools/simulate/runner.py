"""Publishing a simulation on a clock: the past at once, the future at its time."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from monitor.adapters.clock import Clock
from monitor.devtools.simulate.generator import SimEvent, Simulation

Send = Callable[[str, bytes, bytes], Awaitable[None]]
"""``send(topic, key, value)``: topic is ``incidents`` or ``crime-records``."""

_YIELD_EVERY = 1000
"""During a backfill nothing waits, so hand the loop over every so many events."""


@dataclass
class SimSummary:
    """What ``publish`` sent. ``by_type`` and ``by_topic`` include redelivered copies."""

    by_type: Counter[str] = field(default_factory=Counter)
    by_topic: Counter[str] = field(default_factory=Counter)
    redelivered: int = 0
    first_at: datetime | None = None
    last_at: datetime | None = None

    @property
    def sent(self) -> int:
        return self.by_topic.total()

    def add(self, event: SimEvent) -> None:
        self.by_type[event.event_type] += 1
        self.by_topic[event.topic] += 1
        self.redelivered += event.redelivered
        self.first_at = self.first_at or event.publish_at
        self.last_at = event.publish_at

    def __str__(self) -> str:
        if not self.sent:
            return "sent no events"
        topics = ", ".join(f"{topic} {n}" for topic, n in sorted(self.by_topic.items()))
        types = ", ".join(f"{kind} {n}" for kind, n in sorted(self.by_type.items()))
        span = f"{_text(self.first_at)} to {_text(self.last_at)}"
        return (
            f"sent {self.sent} events ({topics}; {self.redelivered} redelivered), "
            f"published {span}: {types}"
        )


def _text(moment: datetime | None) -> str:
    return "-" if moment is None else moment.isoformat().replace("+00:00", "Z")


async def publish(
    simulation: Simulation,
    *,
    clock: Clock,
    send: Send,
    start: datetime,
    until: datetime | None = None,
    stop: asyncio.Event | None = None,
    on_event: Callable[[SimEvent], None] | None = None,
) -> SimSummary:
    """Send the simulation's events from ``start`` on, each when ``clock`` reaches it.

    Events already due (``publish_at <= clock.now()``) go at once, as a
    backfill; later ones are sent at their time. Ends when the clock reaches
    ``until`` (simulated time; never if ``None``) or when ``stop`` is set.
    ``on_event`` is called after each event is sent.
    """
    summary = SimSummary()
    for event in simulation.events(start, until):
        if stop is not None and stop.is_set():
            return summary
        wait = clock.seconds_until(event.publish_at)
        if wait > 0:
            if await _stopped_within(wait, stop):
                return summary
        elif summary.sent % _YIELD_EVERY == 0:
            await asyncio.sleep(0)
        await send(event.topic, event.key.encode(), event.to_bytes())
        summary.add(event)
        if on_event is not None:
            on_event(event)
    if until is not None:
        # The stream ends before until; the run ends at until, as promised.
        await _stopped_within(clock.seconds_until(until), stop)
    return summary


async def _stopped_within(seconds: float, stop: asyncio.Event | None) -> bool:
    """Wait ``seconds`` real seconds, or less if ``stop`` is set: whether it was."""
    if stop is None:
        await asyncio.sleep(seconds)
        return False
    try:
        async with asyncio.timeout(seconds):
            await stop.wait()
    except TimeoutError:
        return False
    return True
