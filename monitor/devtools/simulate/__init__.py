"""A simulated force: a realistic, deterministic stream of upstream events.

``Simulation(profile, seed).events(start, until)`` yields CloudEvents for the
``incidents`` and ``crime-records`` topics in publish order; ``publish`` sends
them on a clock, backfilling the past at once and pacing the future.
"""

from monitor.devtools.simulate.generator import SimEvent, Simulation
from monitor.devtools.simulate.profile import ForceProfile
from monitor.devtools.simulate.runner import SimSummary, publish

__all__ = ["ForceProfile", "SimEvent", "SimSummary", "Simulation", "publish"]
