"""One identity for a function across formats, paths and Python versions.

The same function is written differently by each tool:

- its name: `iterencode` (cProfile; `co_name` on Python 3.9/3.10) or
  `JSONEncoder.iterencode` (`co_qualname`, 3.11+; yappi's class-qualified
  names), `outer.<locals>.inner` or `inner`;
- its file: `light.py` (the path as the script was started) or
  `/home/me/light.py`; a standard-library file under
  `/usr/lib/python3.11/` or `.../versions/3.12.1/lib/python3.12/`;
- built-in functions: file `''` (pstats), `~` (cProfile's callgrind
  converters, yappi), `<built-in>` or `builtins`.

`identity_keys(profile)` gives every function id of a profile one key that
is the same for the same function in all those spellings: the short name
(the part after the last dot, which every tool knows) and the file reduced to
what does not depend on the machine or the interpreter (a library file
relative to its library root, any other file by its base name). Only when two
functions of one profile reduce to the same key are more path components and
then the def line added, so two `__init__` methods of one file stay apart.
Diff, the Compare pane and the run history match functions with these keys.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pyrometer.core.model import Profile

FunctionKey = tuple[str, str, int]  # (file key, name key, def line or 0 when not needed)

BUILTIN_FILE = "~"
_BUILTIN_FILES = frozenset({"", "~", "<built-in>", "builtins", "<builtin>", "<native>"})
# a library root: what follows it names the module the same way on every machine
_LIB_ROOT = re.compile(r"(?:^|(?<=[\\/]))(?:site-packages|dist-packages|lib[\\/]python\d+(?:\.\d+)?t?|Lib)[\\/]")  # Lib: Windows


def file_key(file: str) -> str:
    """The part of a file name that names the same file everywhere (see the module docstring)."""
    if file in _BUILTIN_FILES:
        return BUILTIN_FILE
    if file.startswith("<"):  # <frozen importlib._bootstrap>, <string>, <stdin>
        return file
    path = file.replace("\\", "/")
    last = None
    for m in _LIB_ROOT.finditer(path):
        last = m
    if last is not None:
        return path[last.end() :]
    return path.rstrip("/").rsplit("/", 1)[-1]


def name_key(name: str, file: str | None = None) -> str:
    """The short name every tool knows: `JSONEncoder.iterencode` and `iterencode` are one name."""
    if (file is not None and file in _BUILTIN_FILES) or name.startswith("<built-in") or name.startswith("<method "):
        return name  # `<built-in method builtins.sum>`: the dots are the name's own
    return name.rsplit(".", 1)[-1]  # `outer.<locals>.inner` -> `inner`, `Foo.<lambda>` -> `<lambda>`


def _path_tail(file: str, parts: int) -> str:
    bits = [b for b in file.replace("\\", "/").split("/") if b]
    return "/".join(bits[-parts:])


def identity_keys(names: Sequence[str], files: Sequence[str], lines: Sequence[int]) -> list[FunctionKey]:
    """One key per function (index = function id), unique within the profile where it can be."""
    keys: list[FunctionKey] = [(file_key(f), name_key(n, f), 0) for n, f in zip(names, files, strict=True)]
    groups: dict[FunctionKey, list[int]] = {}
    for fid, key in enumerate(keys):
        groups.setdefault(key, []).append(fid)
    for key, fids in groups.items():
        if len(fids) < 2:
            continue
        files_here = {files[f] for f in fids}
        if len(files_here) > 1 and key[0] != BUILTIN_FILE:
            # one base name in several directories: take path components until they differ
            for parts in range(2, 16):
                tails = {_path_tail(files[f], parts) for f in fids}
                if len(tails) == len(files_here) or parts >= max(len(f.split("/")) for f in files_here):
                    break
            for f in fids:
                keys[f] = (_path_tail(files[f], parts), key[1], 0)
    # what still collides is two functions of one name in one file: their def lines tell them apart
    seen: dict[FunctionKey, list[int]] = {}
    for fid, key in enumerate(keys):
        seen.setdefault(key, []).append(fid)
    for key, fids in seen.items():
        if len(fids) > 1 and len({lines[f] for f in fids}) > 1:
            for f in fids:
                keys[f] = (key[0], key[1], int(lines[f]))
    return keys


def profile_keys(profile: Profile) -> list[FunctionKey]:
    """`identity_keys` of every function of a profile."""
    return identity_keys(profile.func_name, profile.func_file, profile.func_line)


def match_keys(base: dict[FunctionKey, int], new: dict[FunctionKey, int]) -> dict[FunctionKey, FunctionKey]:
    """New key -> base key for the same function; each side maps its keys to a def line.

    Keys equal on both sides match first. A key made longer on one side only
    (its profile had two functions the other profile never ran) still matches
    the one unmatched key on the other side with the same name whose file is
    the tail of its file, and whose def line agrees where several could.
    """
    out = {k: k for k in new.keys() & base.keys()}
    by_name: dict[str, list[FunctionKey]] = {}
    for k in base.keys() - new.keys():
        by_name.setdefault(k[1], []).append(k)
    taken: set[FunctionKey] = set()
    for k in sorted(new.keys() - base.keys()):
        cands = [
            b
            for b in by_name.get(k[1], ())
            if b not in taken and (b[0] == k[0] or b[0].endswith("/" + k[0]) or k[0].endswith("/" + b[0]))
        ]
        if len(cands) > 1:
            cands = [b for b in cands if base[b] == new[k]]
        if len(cands) == 1:
            out[k] = cands[0]
            taken.add(cands[0])
    return out


def key_lines(keys: Sequence[FunctionKey], lines: Sequence[int]) -> dict[FunctionKey, int]:
    """Each key's def line (the first function's), the second argument of `match_keys`."""
    out: dict[FunctionKey, int] = {}
    for key, line in zip(keys, lines, strict=True):
        out.setdefault(key, int(line))
    return out


def display_name(names: Sequence[str]) -> str:
    """The most telling spelling among a function's names (the class-qualified one)."""
    return max(names, key=lambda n: (n.count("."), len(n), n))
