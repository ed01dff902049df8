"""Write an output file all or nothing: a failed export (a full disk) leaves no 0-byte or torn file.

The exporter writes to a temporary name in the same directory that ends with
the real name (so extension-driven choices such as ``.gz`` compression still
apply); it takes the real name only once it is complete.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def replaced_when_done(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path to write; rename it over `path` on success, remove it on any failure."""
    target = Path(path)
    temp = target.with_name(f".pyrometer-{os.urandom(4).hex()}-{target.name}")
    try:
        yield temp
        os.replace(temp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(exc, OSError) and exc.filename == str(temp):
            exc.filename = str(target)
        elif isinstance(exc, Exception) and len(exc.args) == 1 and str(temp) in str(exc.args[0]):
            exc.args = (str(exc.args[0]).replace(str(temp), str(target)),)  # messages name the real file
        raise
