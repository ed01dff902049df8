"""Mutations the importer fuzz tests apply to real files: truncated and flipped bytes, JSON keys
deleted or replaced. One copy, so every format's fuzz test mutates the same way."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st


def json_values(allow_nan: bool) -> st.SearchStrategy[Any]:
    """Small JSON-ish values (NaN only if the format's reader must face it) to put where a key was."""
    return st.recursive(
        st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=allow_nan, allow_infinity=False) | st.text(max_size=8),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
        max_leaves=6,
    )


def truncate_and_flip(raw: bytes, data: st.DataObject) -> bytes:
    """Maybe cut the bytes short, then overwrite up to 8 of them."""
    out = bytearray(raw)
    if data.draw(st.booleans()):
        out = out[: data.draw(st.integers(0, len(out)))]
    for _ in range(data.draw(st.integers(0, 8))):
        if out:
            out[data.draw(st.integers(0, len(out) - 1))] = data.draw(st.integers(0, 255))
    return bytes(out)


def json_paths(obj: Any) -> list[tuple[Any, ...]]:
    """Every key/index path into a JSON document (bounded so big files stay quick)."""
    out: list[tuple[Any, ...]] = []
    stack: list[tuple[Any, tuple[Any, ...]]] = [(obj, ())]
    while stack and len(out) < 5000:
        node, path = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for k, v in items:
            out.append((*path, k))
            stack.append((v, (*path, k)))
    return out


def delete_or_replace_keys(doc: Any, data: st.DataObject, values: st.SearchStrategy[Any]) -> None:
    """In place: 1-4 times, delete a key/index of `doc` or replace its value with one drawn from `values`."""
    for _ in range(data.draw(st.integers(1, 4))):
        paths = json_paths(doc)
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        parent = doc
        for k in path[:-1]:
            parent = parent[k]
        if data.draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = data.draw(values)
