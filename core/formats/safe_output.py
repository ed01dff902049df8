"""Write an output file all or nothing: a failed export (a full disk) leaves no 0-byte or torn file.

The exporter writes a file of the same name inside a fresh private folder
beside the output (so the name, and choices it drives such as ``.gz``
compression, are unchanged); it takes the real place only once complete.
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
    folder = target.with_name(f".pyrometer-{os.urandom(4).hex()}.part")
    temp = folder / target.name  # the same name: exporters may write it into the file
    try:
        os.mkdir(folder, 0o700)
        yield temp
        os.replace(temp, target)
        os.rmdir(folder)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        with contextlib.suppress(OSError):
            os.rmdir(folder)
        if isinstance(exc, OSError) and exc.filename in (str(temp), str(folder)):
            exc.filename = str(target)
        elif isinstance(exc, Exception) and len(exc.args) == 1 and str(folder) in str(exc.args[0]):
            exc.args = (str(exc.args[0]).replace(str(temp), str(target)).replace(str(folder), str(target.parent)),)
        raise
