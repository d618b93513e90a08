"""Victim detail kept out of dead letters: a rejected value is copied with victim fields redacted.

Victim details may leave the monitor only on the referral topic. A dead letter
copies the value it rejects, and a rejected crime record or internal message
can hold a ``victim_ref`` (or a whole victim record). So, unless the operator
asks for byte-for-byte copies (``CDI_DEAD_LETTER_RAW_COPY=true``):

- a value that parses as JSON is copied with every field whose name starts
  with ``victim`` (any case, at any depth, also inside a string that is itself
  JSON: ``victim_ref``, ``victim``, ``victimName``) replaced by
  ``"[redacted]"``; a value with no such field is copied byte for byte;
- a value that is not JSON (truncated, say) has each ``"victim...": value``
  pair it visibly holds redacted in its text; when a mention of a victim is
  left that the text redaction cannot reach (a nested object, an escaped key),
  no copy is kept at all.

The dead letter says which was done in ``value_redaction``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from schemas.dead_letters import ValueRedaction

REDACTED = "[redacted]"

# A quoted key starting with "victim", its colon, and a scalar value: a string
# (single or double quoted; its closing quote may be cut off) or a bare word.
_TEXT_PAIR = re.compile(
    rb"""(?P<key>(?P<q>["'])victim[^"'\\]*(?P=q)\s*:\s*)"""
    rb"""(?:"(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?|[^\s,}\]\[{"']+)""",
    re.IGNORECASE | re.DOTALL,
)
# What may be left once the pairs are redacted: the redacted pairs themselves, and a
# key cut off at the end of a truncated value (with nothing after it to hide).
_HARMLESS = re.compile(
    rb"""(["'])victim[^"'\\]*\1\s*:\s*"\[redacted\]"|(["'])victim[^"'\\]*(?:\2\s*:?\s*)?\Z""",
    re.IGNORECASE,
)


def is_victim_field(name: str) -> bool:
    return name.lower().startswith("victim")


def redact_document(document: Any) -> tuple[Any, bool]:
    """The JSON document with every victim field's value replaced, and whether any was.

    A string that is itself JSON (an event encoded twice, an internal message
    carrying an event) is redacted the same way. Iterative, so a document as
    deep as the JSON parser allows never exhausts the stack.
    """
    redacted = False
    root = [document]
    stack: list[tuple[Any, Any]] = [(root, 0)]
    while stack:
        parent, at = stack.pop()
        node = parent[at]
        if isinstance(node, dict):
            for name in node:
                if is_victim_field(name):
                    node[name] = REDACTED
                    redacted = True
                else:
                    stack.append((node, name))
        elif isinstance(node, list):
            stack.extend((node, i) for i in range(len(node)))
        elif isinstance(node, str) and node.lstrip()[:1] in ("{", "["):
            try:
                inner = json.loads(node)
            except (ValueError, RecursionError):
                continue
            inner, found = redact_document(inner)
            if found:
                parent[at] = json.dumps(inner, ensure_ascii=False, separators=(",", ":"))
                redacted = True
    return root[0], redacted


def _redact_text(value: bytes) -> tuple[bytes, ValueRedaction]:
    redacted = _TEXT_PAIR.sub(lambda m: m.group("key") + b'"[redacted]"', value)
    left = _HARMLESS.sub(b"", redacted)
    if re.search(rb"victim", left, re.IGNORECASE):
        return b"", ValueRedaction.WITHHELD
    if redacted == value:
        return value, ValueRedaction.NONE
    return redacted, ValueRedaction.VICTIM_FIELDS


def dead_letter_copy(value: bytes, *, raw_copy: bool = False) -> tuple[bytes, ValueRedaction]:
    """What a dead letter keeps of a rejected value, and how it was redacted."""
    if raw_copy:
        return value, ValueRedaction.NONE
    try:
        document = json.loads(value)
    except (ValueError, RecursionError):
        return _redact_text(value)
    document, redacted = redact_document(document)
    if not redacted:
        return value, ValueRedaction.NONE
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8", errors="surrogatepass"), ValueRedaction.VICTIM_FIELDS
