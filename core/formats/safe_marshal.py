"""A small, bounded reader for the subset of Python's `marshal` format that pstats files use.

Why not `marshal.loads`: the standard library says it is not secure against
erroneous or malicious data. It builds code objects, recurses up to 2000
levels in C, trusts element counts (a 5-byte header can ask for a 4-GiB
tuple) and lets back-references make cyclic or exponentially shared
structures. Profile files come from anywhere (attachments, CI artefacts), so
Pyrometer never hands them to `marshal`. This module re-implements the reader
in pure Python for exactly the value types a pstats file holds and refuses
everything else with a `MarshalError` that says where and why.

Accepted type codes (CPython `Python/marshal.c`, versions 0-4, any of them
optionally with the FLAG_REF bit 0x80 that registers the object for later
back-references):

- `N` None, `T` True, `F` False
- `i` int32, `l` arbitrary int as 15-bit digits (bounded to `MAX_LONG_DIGITS`)
- `f` float as text (version 0/1), `g` binary float
- `s` bytes, `u`/`t` UTF-8 str (plain / interned), `a`/`A` ASCII str,
  `z`/`Z` short ASCII str (1-byte length)
- `(` tuple, `)` small tuple, `[` list, `{` dict (pairs until `0`)
- `r` back-reference to an earlier flagged object

Code objects (`c`): the old `profile` module (CPython 3.8-3.10) stores one as
a function name when it profiled a compiled code object. Such a value is read
field by field as plain data and returned as a `CodeInfo` (name, file, first
line, qualified name): no code object is ever constructed. Its constants may
hold sets, frozensets, complex numbers and Ellipsis, which are read as plain
data there and only there. Layouts: 3.8-3.10 (six int32 fields), 3.11+ (five
and a qualified name), 3.7 (five); the first that parses wins.

Refused: sets, frozensets, complex numbers, Ellipsis (outside code objects),
StopIteration, the obsolete `I`, unknown codes, and anything left over after
the top-level value.

Bounds (so a hostile file costs at most time and memory proportional to its
size): every element count must fit in the bytes that remain (each element
takes at least one byte); nesting depth - including depth reached through
back-references - is at most `max_depth`; a back-reference may not point at a
container that is still being read (no cycles); dict keys must be hashable
and small (at most `MAX_KEY_NODES` nodes when expanded), so hashing a key is
cheap however its parts are shared. Values may still share sub-objects
through back-references (a DAG, exactly as `marshal` would return), so callers
must bound their own walks over shared values.
"""

from __future__ import annotations

import re
import struct
from typing import Any, NamedTuple

FLAG_REF = 0x80
DEFAULT_MAX_DEPTH = 32
MAX_LONG_DIGITS = 64  # 960 bits: far beyond any count or time a profiler writes
MAX_KEY_NODES = 64
_SIZE_CAP = 1 << 62

_UNFINISHED = object()  # placeholder in the reference table while a container is read

_IN_CODE_ONLY = {ord("<"), ord(">"), ord("x"), ord("y"), ord(".")}  # plain data inside a code object's constants
_OBJ, _INT = "obj", "int"
# (leading int32 count, then the fields after them) for each code-object layout we can read
_CODE_LAYOUTS: tuple[tuple[int, tuple[str, ...]], ...] = (
    # 3.8-3.10: argcount posonly kwonly nlocals stacksize flags | code consts names varnames freevars
    # cellvars filename name firstlineno lnotab
    (6, ("code", "consts", "names", "varnames", "freevars", "cellvars", "filename", "name", "firstlineno", "lnotab")),
    # 3.11+: argcount posonly kwonly stacksize flags | code consts names localsplusnames localspluskinds
    # filename name qualname firstlineno linetable exceptiontable
    (5, ("code", "consts", "names", "lpnames", "lpkinds", "filename", "name", "qualname", "firstlineno", "linetable", "exctable")),
    # 3.7: argcount kwonly nlocals stacksize flags | as 3.8
    (5, ("code", "consts", "names", "varnames", "freevars", "cellvars", "filename", "name", "firstlineno", "lnotab")),
)


class CodeInfo(NamedTuple):
    """What a profile needs of a marshalled code object, as plain data."""

    name: str
    filename: str
    firstlineno: int
    qualname: str


_REFUSED = {
    ord("<"): "set",
    ord(">"): "frozenset",
    ord("x"): "complex number",
    ord("y"): "complex number",
    ord("."): "Ellipsis",
    ord("S"): "StopIteration",
    ord("I"): "obsolete 64-bit int",
    ord("?"): "unknown object",
}

_INT32 = struct.Struct("<i")
_FLOAT_TEXT = re.compile(rb"^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)\Z", re.IGNORECASE)
_DOUBLE = struct.Struct("<d")


class MarshalError(ValueError):
    """The data is not a marshal stream of the accepted subset; the message says where and why."""


class MarshalTruncated(MarshalError):
    """The data ended before the value did (a prefix of a valid stream may raise only this)."""


class _Reader:
    def __init__(self, data: bytes, max_depth: int) -> None:
        self.data = bytes(data)
        self.end = len(data)
        self.pos = 0
        self.max_depth = max_depth
        # parallel tables: referenced object, its depth, its expanded node count
        self.refs: list[Any] = []
        self.ref_depth: list[int] = []
        self.ref_size: list[int] = []
        self.in_code = 0  # > 0 while reading a code object's fields

    # ------------------------------------------------------------ primitives
    def fail(self, why: str, at: int | None = None) -> MarshalError:
        return MarshalError(f"bad marshal data at byte {self.pos if at is None else at}: {why}")

    def truncated(self, why: str, at: int | None = None) -> MarshalTruncated:
        return MarshalTruncated(f"truncated marshal data at byte {self.pos if at is None else at}: {why}")

    def need(self, n: int, what: str) -> None:
        if self.pos + n > self.end:
            raise self.truncated(f"{what} needs {n} bytes, {self.end - self.pos} left")

    def byte(self, what: str) -> int:
        self.need(1, what)
        b = self.data[self.pos]
        self.pos += 1
        return b

    def int32(self, what: str) -> int:
        self.need(4, what)
        (v,) = _INT32.unpack_from(self.data, self.pos)
        self.pos += 4
        return int(v)

    def count(self, what: str, width: int = 4, per_item: int = 1) -> int:
        """An element count that must fit in the bytes left (each element takes >= per_item bytes)."""
        at = self.pos
        n = self.byte(what) if width == 1 else self.int32(what)
        if n < 0:
            raise self.fail(f"negative {what}", at)
        if n * per_item > self.end - self.pos:
            raise self.truncated(f"{what} {n} exceeds the {self.end - self.pos} bytes left", at)
        return n

    def raw(self, n: int, what: str) -> bytes:
        self.need(n, what)
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    # ------------------------------------------------------------ references
    def reserve(self, flagged: bool) -> int:
        if not flagged:
            return -1
        self.refs.append(_UNFINISHED)
        self.ref_depth.append(0)
        self.ref_size.append(1)
        return len(self.refs) - 1

    def settle(self, idx: int, obj: Any, depth: int, size: int) -> None:
        if idx >= 0:
            self.refs[idx] = obj
            self.ref_depth[idx] = depth
            self.ref_size[idx] = size

    # ------------------------------------------------------------ objects
    def read(self, level: int) -> tuple[Any, int, int]:
        """Read one object: (value, depth, expanded node count)."""
        if level > self.max_depth:
            raise self.fail(f"nesting deeper than {self.max_depth}")
        at = self.pos
        if at >= self.end:
            raise self.truncated("type code needs 1 bytes, 0 left")
        code = self.data[at]
        self.pos = at + 1
        flagged = bool(code & FLAG_REF)
        t = code & ~FLAG_REF
        if t == 0x4E:  # N
            return None, 1, 1
        if t == 0x54:  # T
            return True, 1, 1
        if t == 0x46:  # F
            return False, 1, 1
        if t == 0x72:  # r
            n = self.int32("reference")
            if not 0 <= n < len(self.refs):
                raise self.fail(f"invalid reference {n}", at)
            obj = self.refs[n]
            if obj is _UNFINISHED:
                raise self.fail("reference to an object still being read (cycle)", at)
            depth = self.ref_depth[n]
            if level + depth - 1 > self.max_depth:
                raise self.fail(f"nesting deeper than {self.max_depth} through a reference", at)
            return obj, depth, self.ref_size[n]
        if t in (0x28, 0x29, 0x5B):  # ( ) [
            return self.read_sequence(t, flagged, level)
        if t == 0x7B:  # {
            return self.read_dict(flagged, level)
        if t == 0x30:  # 0
            raise self.fail("unexpected end-of-dict marker", at)
        if t == 0x63:  # c
            return self.read_code(flagged, level, at)
        if self.in_code and t in _IN_CODE_ONLY:
            return self.read_code_constant(t, flagged, level)
        if t in _REFUSED:
            raise self.fail(f"{_REFUSED[t]} not allowed in a profile file", at)
        value = self.read_scalar(t, at)
        idx = self.reserve(flagged)
        self.settle(idx, value, 1, 1)
        return value, 1, 1

    def read_scalar(self, t: int, at: int) -> Any:
        if t == 0x69:  # i
            return self.int32("int")
        if t == 0x6C:  # l
            return self.read_long(at)
        if t == 0x67:  # g
            self.need(8, "float")
            (v,) = _DOUBLE.unpack_from(self.data, self.pos)
            self.pos += 8
            return float(v)
        if t == 0x66:  # f
            n = self.count("float text length", width=1)
            text = self.raw(n, "float text")
            if not _FLOAT_TEXT.match(text):  # what marshal accepts, not all float() would
                raise self.fail("malformed float text", at)
            return float(text.decode("ascii"))
        if t == 0x73:  # s
            return self.raw(self.count("bytes length"), "bytes")
        if t in (0x75, 0x74):  # u t
            data = self.raw(self.count("string length"), "string")
            try:
                return data.decode("utf-8", "surrogatepass")
            except UnicodeDecodeError:
                raise self.fail("string is not UTF-8", at) from None
        if t in (0x61, 0x41):  # a A
            return self.raw(self.count("string length"), "string").decode("latin-1")
        if t in (0x7A, 0x5A):  # z Z
            return self.raw(self.count("string length", width=1), "string").decode("latin-1")
        raise self.fail(f"unknown type code 0x{t:02x}", at)

    def read_code(self, flagged: bool, level: int, at: int) -> tuple[Any, int, int]:
        """A code object's fields as plain data (see the module docstring); never a code object."""
        idx = self.reserve(flagged)
        start, n_refs = self.pos, len(self.refs)
        errors: list[str] = []
        for n_ints, fields in _CODE_LAYOUTS:
            self.pos = start
            del self.refs[n_refs:], self.ref_depth[n_refs:], self.ref_size[n_refs:]
            try:
                info = self.read_code_fields(n_ints, fields, level)
            except MarshalError as exc:
                errors.append(str(exc))
                continue
            self.settle(idx, info, 1, 1)
            return info, 1, 1
        raise self.fail(f"code object in no known layout ({errors[0]})", at)

    def read_code_fields(self, n_ints: int, fields: tuple[str, ...], level: int) -> CodeInfo:
        for _ in range(n_ints):
            self.int32("code object field")
        if self.pos >= self.end or self.data[self.pos] & ~FLAG_REF != 0x73:
            raise self.fail("code object without bytecode where expected")
        got: dict[str, Any] = {}
        self.in_code += 1
        try:
            for name in fields:
                got[name] = self.int32("first line") if name == "firstlineno" else self.read(level + 1)[0]
        finally:
            self.in_code -= 1
        filename, fname = got["filename"], got["name"]
        qualname = got.get("qualname", fname)
        if not all(isinstance(v, str) for v in (filename, fname, qualname)):
            raise self.fail("code object whose name or file is not a string")
        if not isinstance(got["code"], bytes) or not isinstance(got["consts"], tuple):
            raise self.fail("code object with malformed bytecode or constants")
        return CodeInfo(fname, filename, int(got["firstlineno"]), qualname)

    def read_code_constant(self, t: int, flagged: bool, level: int) -> tuple[Any, int, int]:
        """Sets, complex numbers and Ellipsis, which only code constants hold: read as plain data."""
        idx = self.reserve(flagged)
        value: Any
        if t in (0x3C, 0x3E):  # < >  set, frozenset: kept as a tuple
            items = [self.read(level + 1)[0] for _ in range(self.count("set size"))]
            value = tuple(items)
        elif t == 0x79:  # y  binary complex
            self.need(16, "complex")
            value = _DOUBLE.unpack_from(self.data, self.pos) + _DOUBLE.unpack_from(self.data, self.pos + 8)
            self.pos += 16
        elif t == 0x78:  # x  complex as two float texts
            value = tuple(self.raw(self.count("float text length", width=1), "float text") for _ in range(2))
        else:  # .  Ellipsis
            value = "..."
        self.settle(idx, value, 1, 1)
        return value, 1, 1

    def read_long(self, at: int) -> int:
        n = self.int32("long size")
        size = abs(n)
        if size > MAX_LONG_DIGITS:
            raise self.fail(f"integer of {size} digits is too large", at)
        self.need(2 * size, "long digits")
        value = 0
        digit = 0
        for i in range(size):
            digit = self.data[self.pos] | (self.data[self.pos + 1] << 8)
            self.pos += 2
            if digit >= 1 << 15:
                raise self.fail("bad long digit", at)
            value |= digit << (15 * i)
        if size and digit == 0:
            raise self.fail("unnormalized long data", at)
        return -value if n < 0 else value

    def read_sequence(self, t: int, flagged: bool, level: int) -> tuple[Any, int, int]:
        n = self.count("tuple size", width=1) if t == 0x29 else self.count("sequence size")
        idx = self.reserve(flagged)
        items: list[Any] = []
        depth = 0
        size = 1
        for _ in range(n):
            v, d, s = self.read(level + 1)
            items.append(v)
            depth = max(depth, d)
            size = min(size + s, _SIZE_CAP)
        obj: Any = items if t == 0x5B else tuple(items)
        self.settle(idx, obj, depth + 1, size)
        return obj, depth + 1, size

    def read_dict(self, flagged: bool, level: int) -> tuple[Any, int, int]:
        idx = self.reserve(flagged)
        out: dict[Any, Any] = {}
        depth = 0
        size = 1
        while True:
            if self.pos < self.end and self.data[self.pos] & ~FLAG_REF == 0x30:
                self.pos += 1
                break
            key_at = self.pos
            k, dk, sk = self.read(level + 1)
            if sk > MAX_KEY_NODES:
                raise self.fail(f"dict key of {sk} nodes is too large", key_at)
            try:
                hash(k)
            except TypeError:
                raise self.fail(f"unhashable dict key ({type(k).__name__})", key_at) from None
            v, dv, sv = self.read(level + 1)
            out[k] = v
            depth = max(depth, dk, dv)
            size = min(size + sk + sv, _SIZE_CAP)
        self.settle(idx, out, depth + 1, size)
        return out, depth + 1, size


def loads(data: bytes, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """Decode one marshal value of the accepted subset from `data`; MarshalError otherwise."""
    reader = _Reader(data, max_depth)
    value, _depth, _size = reader.read(1)
    if reader.pos != reader.end:
        raise reader.fail(f"{reader.end - reader.pos} trailing bytes after the value")
    return value


def read_prefix(data: bytes, max_depth: int = DEFAULT_MAX_DEPTH) -> bool:
    """True if `data` is the start of a valid stream (it may end early), False if it is wrong.

    Used by sniffers that only see the head of a file.
    """
    try:
        loads(data, max_depth)
    except MarshalTruncated:
        return True
    except MarshalError:
        return False
    return True
