"""Would a schema change break an existing subscriber or producer?

The committed baseline in ``schemas/published/`` is the public contract as
released. A change to a schema in ``schemas/json/`` is compatible when every
event valid under the old contract's field set is still understood:

- a field may be added if it is optional;
- a field may not be removed, nor its type changed (a ``null`` alternative
  added or removed counts as a change of type), nor a fixed value (``const``)
  changed;
- an optional field may not become required, and no required field may be added;
- an enumeration may gain values but not lose them;
- an event type (a schema file) may not be removed.

Comparisons follow ``$ref`` into ``$defs``, ``anyOf``/``oneOf`` alternatives
and array ``items``, so a change deep inside a nested object is found.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from schemas.export import JSON_DIR

PUBLISHED_DIR = Path(__file__).parent / "published"

Schema = dict[str, Any]


def _deref(schema: Schema, root: Schema) -> Schema:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        schema = {**root.get("$defs", {})[name], **rest}
    return schema


def _json_type(value: Any) -> str:
    match value:
        case None:
            return "null"
        case bool():
            return "boolean"
        case int():
            return "integer"
        case float():
            return "number"
        case str():
            return "string"
        case list():
            return "array"
    return "object"


def _alternatives(schema: Schema, root: Schema) -> list[Schema]:
    schema = _deref(schema, root)
    branches = schema.get("anyOf") or schema.get("oneOf")
    if not branches:
        return [schema]
    return [alt for branch in branches for alt in _alternatives(branch, root)]


def _types(schema: Schema, root: Schema) -> frozenset[str]:
    found: set[str] = set()
    for alt in _alternatives(schema, root):
        if "const" in alt:
            found.add(_json_type(alt["const"]))
        elif "type" in alt:
            kinds = alt["type"]
            found.update(kinds if isinstance(kinds, list) else [kinds])
        elif "enum" in alt:
            found.update(_json_type(v) for v in alt["enum"])
        else:
            found.add("any")
    return frozenset(found)


def _of_type(schema: Schema, root: Schema, kind: str) -> Schema | None:
    for alt in _alternatives(schema, root):
        if alt.get("type") == kind or (kind == "object" and "properties" in alt):
            return alt
    return None


def _values(schema: Schema, root: Schema, key: str) -> list[Any]:
    return [v for alt in _alternatives(schema, root) if key in alt for v in _listed(alt[key])]


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def breaking_changes(old: Schema, new: Schema) -> list[str]:
    """Every change from ``old`` to ``new`` that would break a subscriber or producer."""
    found: list[str] = []
    _compare(old, new, old, new, "", found)
    return found


def _compare(old: Schema, new: Schema, old_root: Schema, new_root: Schema, path: str,
             found: list[str]) -> None:  # fmt: skip
    where = path.lstrip(".") or "(the event)"
    old_types, new_types = _types(old, old_root), _types(new, new_root)
    if old_types != new_types:
        found.append(f"{where}: type changed from {sorted(old_types)} to {sorted(new_types)}")
        return
    old_const, new_const = _values(old, old_root, "const"), _values(new, new_root, "const")
    if old_const != new_const:
        found.append(f"{where}: fixed value changed from {old_const} to {new_const}")
    removed = [v for v in _values(old, old_root, "enum") if v not in _values(new, new_root, "enum")]
    if removed and _values(new, new_root, "enum"):
        found.append(f"{where}: values no longer allowed: {removed}")
    old_object, new_object = _of_type(old, old_root, "object"), _of_type(new, new_root, "object")
    if old_object is not None and new_object is not None:
        old_props = old_object.get("properties", {})
        new_props = new_object.get("properties", {})
        for name, old_prop in old_props.items():
            if name not in new_props:
                found.append(f"{path}.{name}: field removed".lstrip("."))
            else:
                _compare(old_prop, new_props[name], old_root, new_root, f"{path}.{name}", found)
        newly_required = set(new_object.get("required", [])) - set(old_object.get("required", []))
        for name in sorted(newly_required):
            what = "required field added" if name not in old_props else "field became required"
            found.append(f"{path}.{name}: {what}".lstrip("."))
    old_array, new_array = _of_type(old, old_root, "array"), _of_type(new, new_root, "array")
    if old_array and new_array and "items" in old_array and "items" in new_array:
        _compare(old_array["items"], new_array["items"], old_root, new_root, f"{path}[]", found)


def compare_directories(published: Path = PUBLISHED_DIR, current: Path = JSON_DIR) -> list[str]:
    """Every breaking change from the published contract to the current schemas."""
    found: list[str] = []
    for old_path in sorted(published.glob("*.schema.json")):
        new_path = current / old_path.name
        event_type = old_path.name.removesuffix(".schema.json")
        if not new_path.exists():
            found.append(f"{event_type}: event type removed")
            continue
        old, new = json.loads(old_path.read_text()), json.loads(new_path.read_text())
        found.extend(f"{event_type}: {change}" for change in breaking_changes(old, new))
    return found


def publish(published: Path = PUBLISHED_DIR, current: Path = JSON_DIR) -> list[str]:
    """Make the current schemas the published contract, unless that would break it."""
    broken = compare_directories(published, current)
    if broken:
        raise ValueError("breaking changes cannot be published:\n  " + "\n  ".join(broken))
    published.mkdir(parents=True, exist_ok=True)
    names = sorted(p.name for p in current.glob("*.schema.json"))
    for name in names:
        shutil.copyfile(current / name, published / name)
    return names
