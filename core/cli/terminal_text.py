"""Text from a profile made safe for a terminal: control characters become visible escapes.

Function, file and thread names come from the files we read, so they are
chosen by whoever wrote the file. Printed raw, ESC sequences retitle the
terminal or clear the screen, CR and LF forge table rows, NUL and BEL confuse
pagers. Every line of text output goes through `printable`, which shows such
characters the way Python's repr does (``\\x1b``, ``\\n``), plus the bidi
controls that can make text read differently from what it is.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    named = _NAMED.get(ch)
    if named is not None:
        return named
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with every control character escaped (one line stays one line)."""
    return _UNSAFE.sub(_escape, text)
