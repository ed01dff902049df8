"""A read-only sequence of names made when asked: lanes hold a name per box for thousands of boxes, and a
paint reads only the few it labels, so none is copied into a list."""

from __future__ import annotations

from collections.abc import Sequence
from typing import overload


class NameView(Sequence[str]):
    """Indexing and slicing of a sequence whose subclass gives its length and `_name(i)` for 0 <= i < len."""

    def __len__(self) -> int:
        raise NotImplementedError

    def _name(self, i: int) -> str:
        raise NotImplementedError

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self._name(i) for i in range(*index.indices(len(self)))]
        i = index + len(self) if index < 0 else index
        if not 0 <= i < len(self):
            raise IndexError(index)
        return self._name(i)
