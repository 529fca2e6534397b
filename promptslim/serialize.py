"""One JSON serializer for every result object."""

from __future__ import annotations

import dataclasses
import json
import math
from enum import Enum
from functools import cache
from pathlib import Path
from typing import TextIO

_PLAIN = (str, int, bool, type(None))


def to_jsonable(value):
    kind = type(value)
    if kind in _PLAIN:  # most values: return at once
        return value
    if kind is float:  # the next most: before the slower checks below
        return value if math.isfinite(value) else None
    if kind is tuple or kind is list:
        return [to_jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if hasattr(value, "to_dict"):
            return to_jsonable(value.to_dict())
        return {name: to_jsonable(getattr(value, name)) for name in _field_names(type(value))}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return value.item()
    return value


@cache
def _field_names(cls) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def fields_of(value) -> dict:
    """A dataclass's fields as a dict, not copied (`to_jsonable` converts what they hold)."""
    return {name: getattr(value, name) for name in _field_names(type(value))}


def dumps(value, *, indent: int | None = 2) -> str:
    return json.dumps(to_jsonable(value), indent=indent, ensure_ascii=False)


def write_json(value, out: TextIO, *, rows: str) -> None:
    """`dumps(value)`, written to `out`, except that each entry of the list `value.to_dict()[rows]`
    (which `to_dict` must give JSON-ready) is one compact line, last in the document: a list of
    thousands of records goes through the fast encoder one record at a time, converted once."""
    data = value.to_dict()
    entries = data.pop(rows)
    data = to_jsonable(data)
    head = json.dumps(data, indent=2, ensure_ascii=False)
    out.write(head[:-2] + ",\n" if data else "{\n")
    out.write(f"  {json.dumps(rows)}: [")
    for i, entry in enumerate(entries):
        out.write(("," if i else "") + "\n    " + json.dumps(entry, ensure_ascii=False))
    out.write("\n  ]\n}\n" if entries else "]\n}\n")
