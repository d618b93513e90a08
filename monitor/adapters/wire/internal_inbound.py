"""Reading the monitor's own topics (links, ledger): a bad message is dead-lettered, never fatal.

The workers write these topics themselves, so a message that does not decode
is a bug or a stranger's write. It must neither stop an agent (an exception
escaping the ledger writer crashed it, and Faust logged the message's value)
nor quote the message in a log line or a dead letter's reason: a crime link
or a ledger crime carries the victim's reference.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from faust.types import EventT, Message
from pydantic import TypeAdapter, ValidationError

from monitor.adapters.safe_errors import validation_errors, validation_summary
from monitor.adapters.wire.inbound import Rejected
from schemas.dead_letters import RejectionKind

T = TypeVar("T")

DeadLetter = Callable[[Rejected, Message], Awaitable[None]]


def decode_internal(adapter: TypeAdapter[T], value: bytes | None) -> T:
    """The message, or ``Rejected`` saying what is wrong without quoting it."""
    try:
        return adapter.validate_json(value or b"")  # a tombstone is unreadable
    except ValidationError as exc:
        raise Rejected(
            RejectionKind.INVALID,
            f"unreadable internal message: {validation_summary(exc)}",
            errors=validation_errors(exc),
        ) from None


async def readable(
    adapter: TypeAdapter[T], events: Sequence[EventT], dead_letter: DeadLetter
) -> list[T]:
    """The messages of ``events`` that decode; each other one is dead-lettered."""
    decoded = []
    for event in events:
        try:
            decoded.append(decode_internal(adapter, event.message.value))
        except Rejected as rejected:
            await dead_letter(rejected, event.message)
    return decoded
