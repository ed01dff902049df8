"""Refuse an output path that would destroy something: checked before any work starts.

`record -o helper.py` once replaced an imported module with binary data and
`report -o r.pdf` wrote HTML into a .pdf. A command that writes a file asks
here first and, on a problem, prints the one line it gets back and exits 2.
Numpy-free and Qt-free: `pyrometer record` imports it on its fast start path.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

RECORDING_MAGIC = b"PYROMETR"  # pyrometer.core.agent.wire.MAGIC, the first bytes of every .pyro
RECORDING_SUFFIX = ".pyro"


def is_recording(path: str | os.PathLike[str]) -> bool:
    """True when the file starts with the recording header (an empty file counts: nothing to lose)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(RECORDING_MAGIC))
    except OSError:
        return False
    return head == b"" or head == RECORDING_MAGIC


def recording_output_problem(path: str) -> str | None:
    """Why PATH cannot take a new recording (None: fine).

    The name must end in .pyro, so a typo or a swapped argument can never
    create `helper.py` full of binary data beside the program that imports it;
    an existing file is replaced only when it is itself a recording.
    """
    if os.path.isfile(path) and not is_recording(path):
        return f"{path}: exists and is not a Pyrometer recording; refusing to overwrite it"
    if not path.lower().endswith(RECORDING_SUFFIX):
        stem = os.path.splitext(os.path.basename(path))[0] or "run"
        return f"{path}: a recording is written to a {RECORDING_SUFFIX} file (e.g. {stem}{RECORDING_SUFFIX}); refusing another extension"
    return None


def export_output_problem(path: str, extensions: Sequence[str], what: str) -> str | None:
    """Why PATH cannot take an export whose format writes EXTENSIONS (None: fine).

    An explicit format (`--to`) may not land in an existing file named for another kind
    (`convert x.pyro notes.md --to collapsed`); an existing .pyro-format output must be a
    recording (checked by its header).
    """
    if not os.path.isfile(path):
        return None
    lower = os.path.basename(path).lower()
    if RECORDING_SUFFIX in extensions:
        return None if is_recording(path) else f"{path}: exists and is not a Pyrometer recording; refusing to overwrite it"
    from pyrometer.core.formats.registry import name_matches  # convert only, never on record's path

    if not any(name_matches(lower, ext) for ext in extensions):
        return f"{path}: exists and is not a {what} file ({', '.join(extensions)}); refusing to overwrite it"
    if not _holds_a_profile(path):  # notes.txt is named like collapsed stacks, but is not one
        return f"{path}: exists and holds no profile (its content is not a format we read); refusing to overwrite it"
    return None


def _holds_a_profile(path: str) -> bool:
    """True when some importer recognises the file by its content (an empty file has nothing to lose)."""
    from pathlib import Path

    from pyrometer.core.formats.registry import importers, read_head

    head = read_head(Path(path))
    if not head:
        return True
    for imp in importers():
        try:
            if imp.sniff(head, Path(path)):
                return True
        except Exception:  # a sniffer never decides by crashing (as in registry.detect)
            continue
    return False
