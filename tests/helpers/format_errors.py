"""The importers' contract for bad input: a FormatError whose message is one line naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyrometer.core.formats.registry import FormatError, load_profile


def expect_format_error(path: Path) -> FormatError:
    """Load `path`, which must fail with a one-line FormatError naming it; that error."""
    with pytest.raises(FormatError) as err:
        load_profile(path)
    msg = str(err.value)
    assert str(path) in msg, msg
    assert "\n" not in msg
    return err.value
