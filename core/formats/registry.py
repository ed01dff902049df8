"""Which file formats exist, how each is recognised, loaded and written.

Each format module in this package defines `IMPORTER` and/or `EXPORTER`; the
registry lists those modules and imports them lazily. Loading sniffs the
content first and falls back to the extension (speedscope's habit).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pyrometer.core.analysis.measures import note_measure
from pyrometer.core.model import Profile

# Modules of pyrometer.core.formats that define IMPORTER and/or EXPORTER, most specific sniffers first.
FORMAT_MODULES = (
    "pyro",
    "speedscope",
    "chrome_trace",
    "cpuprofile",
    "pyinstrument_session",
    "firefox",
    "pstats_format",
    "callgrind",
    "pprof",
    "austin",
    "austin_mojo",
    "collapsed",
    "tables",
    "svg_flame",
    "html_report",
)

SNIFF_BYTES = 64 * 1024

ProgressFn = Callable[[float], None]  # fraction done in [0, 1]; may raise to cancel


class FormatError(Exception):
    """A one-line, user-facing reason why a file cannot be read or written."""


@dataclass(frozen=True)
class Importer:
    name: str  # short id used by --to / in messages, e.g. "speedscope"
    description: str
    extensions: tuple[str, ...]  # lower-case, with dot, e.g. (".speedscope.json", ".json")
    sniff: Callable[[bytes, Path], bool]  # head of the file (up to SNIFF_BYTES, maybe gunzipped) -> is it mine?
    load: Callable[[Path, ProgressFn | None], Profile]  # raises FormatError on bad input
    # formats whose samples carry several values (pprof, Austin -f): load one by name
    load_sample_type: Callable[[Path, ProgressFn | None, str], Profile] | None = None


@dataclass(frozen=True)
class Exporter:
    name: str
    description: str
    extensions: tuple[str, ...]
    write: Callable[[Profile, Path], None]  # raises FormatError
    options: dict[str, str] = field(default_factory=dict)


def _modules() -> list[object]:
    mods: list[object] = []
    for name in FORMAT_MODULES:
        try:
            mods.append(importlib.import_module(f"pyrometer.core.formats.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"pyrometer.core.formats.{name}":
                raise
    return mods


def importers() -> list[Importer]:
    return [m.IMPORTER for m in _modules() if hasattr(m, "IMPORTER")]  # type: ignore[attr-defined]


def exporters() -> list[Exporter]:
    """Each module's EXPORTER, plus any listed in EXPORTERS (a module writing several formats)."""
    out: list[Exporter] = []
    for m in _modules():
        if hasattr(m, "EXPORTER"):
            out.append(m.EXPORTER)  # type: ignore[attr-defined]
        out.extend(getattr(m, "EXPORTERS", ()))
    return out


def read_head(path: Path) -> bytes:
    """First bytes of a file, transparently gunzipped; FormatError for unreadable paths."""
    import gzip
    import zlib

    check_readable(path)
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if head[:2] == b"\x1f\x8b":
        try:
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            out = d.decompress(head, SNIFF_BYTES)
        except (zlib.error, gzip.BadGzipFile) as exc:
            raise FormatError(f"{path}: corrupt gzip data ({exc})") from None
        if not out and not d.eof:  # not "file is empty": the compressed stream is cut short
            raise FormatError(f"{path}: truncated gzip data (the file ends inside the compressed stream)")
        return out
    return head


def name_matches(lower_name: str, ext: str) -> bool:
    """An extension like ".prof" matches the end of the name; one with "*" is a whole-name
    pattern, for tools that name files by prefix (valgrind's "callgrind.out.*")."""
    if "*" in ext:
        import fnmatch

        return fnmatch.fnmatchcase(lower_name, ext)
    return lower_name.endswith(ext)


def check_readable(path: Path) -> None:
    if not path.exists():
        raise FormatError(f"{path}: no such file")
    if path.is_dir():
        raise FormatError(f"{path}: is a directory, not a profile")
    if not path.is_file():  # a FIFO or device would block or never end
        raise FormatError(f"{path}: not a regular file")
    if not os.access(path, os.R_OK):
        raise FormatError(f"{path}: permission denied")


def detect(path: Path) -> Importer:
    """Choose the importer by content, then by extension."""
    head = read_head(path)
    if not head:
        raise FormatError(f"{path}: file is empty")
    all_importers = importers()
    for imp in all_importers:
        try:
            if imp.sniff(head, path):
                return imp
        except Exception:  # a sniffer must never decide the outcome by crashing
            continue
    lower = path.name.lower()
    for imp in all_importers:
        if any(name_matches(lower, ext) for ext in imp.extensions):
            return imp
    raise FormatError(f"{path}: unrecognised profile format")


def load_profile(
    path: str | os.PathLike[str], progress: ProgressFn | None = None, sample_type: str | None = None
) -> Profile:
    """Load any supported file into a Profile; FormatError with a one-line reason otherwise.

    `sample_type` picks which of a sample's values becomes its weight (pprof's `cpu`,
    `alloc_space`...); None lets the importer choose."""
    p = Path(path)
    imp = detect(p)
    if sample_type is not None and imp.load_sample_type is None:
        raise FormatError(f"{p}: a {imp.description} file has one sample type; --sample-type applies to pprof")
    try:
        if sample_type is not None and imp.load_sample_type is not None:
            profile = imp.load_sample_type(p, progress, sample_type)
        else:
            profile = imp.load(p, progress)
    except FormatError:
        raise
    except MemoryError as exc:
        raise FormatError(f"{p}: too large to load ({imp.name})") from exc
    except RecursionError as exc:
        raise FormatError(f"{p}: nesting too deep ({imp.name})") from exc
    except (ValueError, KeyError, TypeError, IndexError, AttributeError, UnicodeError, OSError, EOFError,
            ArithmeticError) as exc:  # absurd numbers (OverflowError) are bad input too
        raise FormatError(f"{p}: not a valid {imp.description} file ({type(exc).__name__}: {exc})") from exc
    profile.finish()
    note_measure(profile)  # what its weights measure (wall, CPU...), kept in meta: a diff warns when two differ
    return profile


def exporter_for(path: str | os.PathLike[str], fmt: str | None = None) -> Exporter:
    """Pick the exporter by explicit name or by the output file's extension (longest match)."""
    all_exporters = exporters()
    if fmt:
        for ex in all_exporters:
            if ex.name == fmt:
                return ex
        names = ", ".join(ex.name for ex in all_exporters)
        raise FormatError(f"unknown output format {fmt!r} (choose from {names})")
    lower = Path(path).name.lower()
    best: tuple[int, Exporter] | None = None
    for ex in all_exporters:
        for ext in ex.extensions:
            if name_matches(lower, ext) and (best is None or len(ext) > best[0]):
                best = (len(ext), ex)
    if best is None:
        raise FormatError(f"{path}: cannot tell the output format from the extension; use --to")
    return best[1]


def export_profile(profile: Profile, path: str | os.PathLike[str], fmt: str | None = None) -> Exporter:
    ex = exporter_for(path, fmt)
    try:
        ex.write(profile, Path(path))
    except FormatError:
        raise
    except OSError as exc:
        raise FormatError(f"{path}: cannot write ({exc.strerror or exc})") from exc
    return ex
