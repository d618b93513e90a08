"""Domain values to compact JSON and back, for the stream processor's table and internal topics.

The JSON of a value is its dataclass fields in declaration order, leaving out
every field that holds its default (so an incident's state is about 400
bytes, and a field added later with a default reads old bytes unchanged).
Times are RFC 3339 text with their own offset (``Z`` for UTC), sets are
sorted lists, enumerations their values. The incident state in this form is
what the table, its changelog, the ledger topic and the ledger's ``state``
column hold: it is encoded once per change and the bytes are reused.

Decoding goes straight into the domain's frozen dataclasses (msgspec checks
every type on the way), so there is no second set of record classes to copy
field by field. Fields a reader does not know are ignored: a state written
with the message that changed it last (``trigger``, before the pipeline
published ahead of saving) still reads.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from enum import Enum
from functools import cache
from typing import Any, TypeVar

import msgspec

from monitor.domain.incident import IncidentState

T = TypeVar("T")

_MISSING = dataclasses.MISSING
_encoder = msgspec.json.Encoder()


_AS_IS = frozenset({str, bool, int, float, datetime, type(None)})
_converters: dict[type, Callable[[Any], Any]] = {}


def plain(value: Any) -> Any:
    """The JSON-ready form of a domain value: dicts, lists, text, numbers and times."""
    kind = type(value)
    if kind in _AS_IS:
        return value
    convert = _converters.get(kind)
    if convert is None:
        convert = _converters[kind] = _converter(kind)
    return convert(value)


def _converter(kind: type) -> Callable[[Any], Any]:
    if dataclasses.is_dataclass(kind):
        return _dataclass_converter(kind)
    if issubclass(kind, Enum):
        return lambda value: value.value
    if issubclass(kind, frozenset | set):
        return lambda value: sorted(plain(item) for item in value)
    if issubclass(kind, tuple | list):
        return lambda value: [plain(item) for item in value]
    if issubclass(kind, dict):
        return lambda value: {key: plain(item) for key, item in value.items()}
    raise TypeError(f"cannot encode {kind.__name__}")


def _dataclass_converter(kind: type) -> Callable[[Any], dict[str, Any]]:
    fields = []
    for f in dataclasses.fields(kind):
        if f.default is not _MISSING:
            fields.append((f.name, f.default))
        elif f.default_factory is not _MISSING:
            fields.append((f.name, f.default_factory()))
        else:
            fields.append((f.name, _MISSING))

    def convert(value: Any) -> dict[str, Any]:
        out = {}
        for name, default in fields:
            item = getattr(value, name)
            if item is default or (default is not _MISSING and item == default):
                continue  # a default is left out
            out[name] = item if type(item) in _AS_IS else plain(item)
        return out

    return convert


def encode(value: Any) -> bytes:
    """Compact JSON of a domain value (see the module's docstring for the form)."""
    return _encoder.encode(plain(value))


@cache
def decoder(cls: type[T]) -> Callable[[bytes], T]:
    """A reusable decoder of JSON into ``cls``; raises ``msgspec.ValidationError`` on bad input."""
    return msgspec.json.Decoder(cls).decode


def encode_state(state: IncidentState) -> bytes:
    return encode(state)


def decode_state(raw: bytes) -> IncidentState:
    return decoder(IncidentState)(raw)
