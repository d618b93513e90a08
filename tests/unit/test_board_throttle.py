"""The sign-in throttle: counted per (address, username), with ceilings per username and per
address that slow a spread-out attack without locking a named user out, in bounded memory."""

from __future__ import annotations

import pytest

from monitor.web.throttle import Limits, SignInThrottle, Throttled

WINDOW = 300.0


def fail(throttle: SignInThrottle, address: str, username: str, now: float) -> None:
    throttle.admit(address, username, now=now)  # counted; never succeeds


def test_five_attempts_per_address_and_username_then_the_rest_of_the_window() -> None:
    throttle = SignInThrottle()
    for i in range(5):
        fail(throttle, "10.0.0.1", "sam", now=i)
    with pytest.raises(Throttled) as held:
        throttle.admit("10.0.0.1", "SAM", now=10)
    assert held.value.retry_after == pytest.approx(WINDOW - 10)
    fail(throttle, "10.0.0.1", "sam", now=WINDOW + 1)  # the first attempt has left the window


def test_a_strangers_guesses_do_not_lock_the_named_user_out() -> None:
    throttle = SignInThrottle()
    for i in range(5):
        fail(throttle, "203.0.113.9", "sam", now=i)
    with pytest.raises(Throttled):
        throttle.admit("203.0.113.9", "sam", now=6)
    throttle.admit("10.1.2.3", "sam", now=7).succeeded()  # sam, at their own desk


def test_the_username_ceiling_slows_guesses_spread_over_many_addresses() -> None:
    throttle = SignInThrottle()
    for i in range(50):  # ten addresses, five guesses each
        fail(throttle, f"198.51.100.{i // 5}", "sam", now=i)
    with pytest.raises(Throttled):
        throttle.admit("198.51.100.200", "sam", now=60)
    throttle.admit("198.51.100.200", "kim", now=61)  # other users are not affected


def test_a_pair_that_signed_in_before_is_not_held_by_the_ceilings() -> None:
    throttle = SignInThrottle()
    throttle.admit("10.1.2.3", "sam", now=0).succeeded()
    for i in range(50):
        fail(throttle, f"198.51.100.{i // 5}", "sam", now=1 + i)
    throttle.admit("10.1.2.3", "sam", now=60).succeeded()
    with pytest.raises(Throttled):
        throttle.admit("10.9.9.9", "sam", now=61)


def test_the_address_ceiling_slows_one_address_trying_many_usernames() -> None:
    throttle = SignInThrottle()
    for i in range(100):
        fail(throttle, "203.0.113.9", f"user{i}", now=i / 10)
    with pytest.raises(Throttled):
        throttle.admit("203.0.113.9", "sam", now=11)
    throttle.admit("10.1.2.3", "sam", now=12)


def test_a_successful_sign_in_takes_its_attempt_back() -> None:
    throttle = SignInThrottle()
    for i in range(4):
        fail(throttle, "10.0.0.1", "sam", now=i)
    throttle.admit("10.0.0.1", "sam", now=5).succeeded()
    for i in range(5):
        fail(throttle, "10.0.0.1", "sam", now=10 + i)
    with pytest.raises(Throttled):
        throttle.admit("10.0.0.1", "sam", now=20)
    # The ceilings kept the four failures before it; a known pair's attempts are not theirs.
    assert list(throttle.usernames.keys["sam"]) == [0, 1, 2, 3]


@pytest.mark.parametrize("spread", ["from one address", "from as many addresses"])
def test_a_hundred_thousand_distinct_usernames_leave_a_bounded_number_of_entries(
    spread: str,
) -> None:
    limits = Limits(max_entries=1000)
    throttle = SignInThrottle(limits)
    refused = 0
    for i in range(100_000):
        address = "203.0.113.9" if spread == "from one address" else f"ip-{i}"
        try:
            fail(throttle, address, f"user-{i}", now=i / 1000)  # all within one window
        except Throttled:
            refused += 1
    assert throttle.entries() <= 3 * limits.max_entries
    held = sum(
        len(t)
        for w in (throttle.pairs, throttle.usernames, throttle.addresses)
        for t in w.keys.values()
    )
    assert held <= 3 * limits.max_entries * limits.address
    if spread == "from one address":
        assert refused == 100_000 - limits.address
