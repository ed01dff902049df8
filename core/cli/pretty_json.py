"""`json.dumps(finite(obj), indent=1, allow_nan=False)`, byte for byte, at the C encoder's speed.

With an indent, the standard library encodes in pure Python: `stats --json`
of a day (150k task rows of 12 fields) spent ~3 s there. Any dict or list
whose values are all scalars is the C encoder's job here: given ",\\n" plus
the indent as its item separator, its output is the indented text without
the newline after the opening bracket and before the closing one, which are
added around it. Only containers that hold containers are walked in Python.
NaN and infinities become null, as `finite` makes them.
"""

from __future__ import annotations

import json
import json.encoder
import math
from collections.abc import Callable
from typing import Any

_SCALARS = {str, int, float, bool, type(None)}
_encode_scalar = json.JSONEncoder(allow_nan=False).encode


def _not_json(obj: Any) -> Any:
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def _c_encoder(item_separator: str) -> Callable[[Any], str]:
    """json's C encoder with these separators, kept (its Python fallback where it is missing)."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is not None:
        try:
            chunks = make(None, _not_json, json.encoder.encode_basestring_ascii, None, ": ", item_separator,
                          False, False, False)
            return lambda obj: "".join(chunks(obj, 0))
        except TypeError:  # another signature: the slower, public way
            pass
    return json.JSONEncoder(allow_nan=False, separators=(item_separator, ": ")).encode


def finite(obj: Any) -> Any:
    """NaN and infinities become null: they are not JSON, and a script reading us would choke."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite(v) for v in obj]
    return obj


class _Writer:
    def __init__(self, indent: int) -> None:
        self.indent = indent
        self._flat: dict[int, Callable[[Any], str]] = {}  # depth -> encoder whose item separator indents to it

    def flat_encoder(self, depth: int) -> Callable[[Any], str]:
        """An encoder of all-scalar containers whose item separator indents to `depth` (one per depth,
        made once: json.JSONEncoder.encode sets up the C encoder again on every call)."""
        enc = self._flat.get(depth)
        if enc is None:
            enc = self._flat[depth] = _c_encoder(",\n" + " " * (self.indent * depth))
        return enc

    def write(self, obj: Any, depth: int, out: list[str]) -> None:
        if isinstance(obj, dict):
            values: Any = obj.values()
        elif isinstance(obj, (list, tuple)):
            values = obj
        else:
            out.append(_encode_scalar(finite(obj)))
            return
        if not obj:
            out.append("{}" if isinstance(obj, dict) else "[]")
            return
        inner = " " * (self.indent * (depth + 1))
        outer = " " * (self.indent * depth)
        if set(map(type, values)) <= _SCALARS:  # (a subclass of a scalar type takes the walk below)
            flat = self.flat_encoder(depth + 1)
            try:
                text = flat(obj)
            except ValueError:  # a NaN or an infinity: null, as `finite` has it
                text = flat(finite(obj))
            out.append(f"{text[0]}\n{inner}{text[1:-1]}\n{outer}{text[-1]}")
            return
        if isinstance(obj, dict):
            out.append("{")
            for i, (key, value) in enumerate(obj.items()):
                out.append(f"\n{inner}" if i == 0 else f",\n{inner}")
                out.append(_key(key) + ": ")
                self.write(value, depth + 1, out)
            out.append(f"\n{outer}}}")
        else:
            out.append("[")
            for i, value in enumerate(obj):
                out.append(f"\n{inner}" if i == 0 else f",\n{inner}")
                self.write(value, depth + 1, out)
            out.append(f"\n{outer}]")


def _key(key: Any) -> str:
    """A dict key as json writes it (a number, bool or None key becomes a string)."""
    return _encode_scalar(key) if isinstance(key, str) else _encode_scalar({key: 0})[1:-4]


def dumps(obj: Any, indent: int = 1) -> str:
    """json.dumps(finite(obj), indent=indent, allow_nan=False), faster (see the module doc)."""
    out: list[str] = []
    _Writer(indent).write(obj, 0, out)
    return "".join(out)
