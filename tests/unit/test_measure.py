from datetime import timedelta

import pytest

from monitor.domain.measure import measure
from tests.unit.builders import T0, H, S

TARGET = timedelta(hours=24)


@pytest.mark.parametrize(
    ("elapsed", "within", "before"),
    [
        (timedelta(0), True, False),
        (timedelta(minutes=7), True, False),
        (24 * H - S, True, False),
        (24 * H, True, False),  # exactly 24 hours is in time
        (24 * H + S, False, False),  # 24 hours and one second is late
        (24 * H + timedelta(microseconds=1), False, False),
        (8 * 24 * H, False, False),
        (-S, True, True),  # stamped before the report: a data-quality error, measured as 0
        (-5 * H, True, True),
    ],
)
def test_a_recording_is_within_target_when_elapsed_is_at_most_the_target(elapsed, within, before):
    m = measure(T0, T0 + elapsed, TARGET)
    assert m.within_target is within
    assert m.recorded_before_report is before
    assert m.elapsed == (timedelta(0) if before else elapsed)


def test_elapsed_seconds_is_the_delay_in_seconds():
    assert measure(T0, T0 + 90 * S, TARGET).elapsed_seconds == 90.0


def test_the_target_is_a_parameter_not_a_constant():
    assert not measure(T0, T0 + 2 * H, timedelta(hours=1)).within_target
