"""What an export cannot say: one line each, for `convert` to print on stderr.

Some target formats have no way to write "unknown". pstats and callgrind have
call counts; a sampled profile has none, so their exporters write each
function's sample count there. Collapsed stacks hold integer sample counts; a
profile without samples (call statistics, trace events) is written as
microseconds. The file cannot say so itself, so `convert` does (and the guide).
"""

from __future__ import annotations

from pyrometer.core.formats.collapsed import has_samples
from pyrometer.core.model import UNIT_SECONDS, Profile


def export_notes(profile: Profile, exporter: str) -> list[str]:
    notes = []
    no_calls = profile.func_stats is None or not len(profile.func_stats.func)
    if exporter in ("pstats", "callgrind") and no_calls and len(profile.samples):
        notes.append(
            f"the source has no call counts: the {exporter} file's call counts are sample counts "
            f"({exporter} cannot say 'unknown')"
        )
    if exporter == "collapsed" and profile.unit == UNIT_SECONDS and not has_samples(profile):
        notes.append("the source has no samples: the collapsed counts are microseconds of time, not samples")
    return notes
