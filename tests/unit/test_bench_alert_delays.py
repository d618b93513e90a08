"""The bench table states overdue-alert delays in words, and never as "nan"."""

from __future__ import annotations

from monitor.devtools.bench.command import _alert_delays


def test_every_alert_read_gives_the_worst_and_the_median() -> None:
    assert _alert_delays([0.5, 1.0, 2.5], 3) == (
        "worst 2.50 s, median 1.00 s after the deadline (3 of 3)"
    )


def test_alerts_never_read_are_counted_not_hidden() -> None:
    assert _alert_delays([1.0, 4.0], 5) == (
        "worst 4.00 s, median 1.00 s after the deadline (2 of 5; 3 not read before the run ended)"
    )


def test_no_alert_read_says_so_instead_of_nan() -> None:
    text = _alert_delays([], 20)
    assert text == "none of 20 read before the run ended"
    assert "nan" not in text
