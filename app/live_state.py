"""Where a live session is (starting, running, ended with a status or a signal, detached...), as data.

The session sets it; the live bar, the status bar, the Session pane and the
`run` command's exit status read its fields, never its text.
"""

from __future__ import annotations

import dataclasses
import enum
import signal


class Phase(enum.Enum):
    STARTING = "starting"
    ATTACHING = "attaching"  # gdb is injecting the agent (seconds): nothing is recorded yet
    RUNNING = "running"
    STOPPING = "stopping"  # Stop was pressed: SIGINT sent, SIGTERM/SIGKILL follow if it lingers
    DETACHING = "detaching"  # the agent was asked to end its stream
    ENDED = "ended"  # the program ended on its own
    STOPPED = "stopped"  # the program ended after Stop
    DETACHED = "detached"  # profiling stopped; the program may run on
    FAILED = "failed"  # launching or attaching failed (the message went to `failed`)


ACTIVE = frozenset({Phase.STARTING, Phase.ATTACHING, Phase.RUNNING, Phase.STOPPING, Phase.DETACHING})


def signal_name(number: int) -> str:
    """SIGTERM for 15; `signal 99` for a number this platform does not name."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


@dataclasses.dataclass(frozen=True)
class LiveState:
    """A live session's phase plus how the program ended, when it did."""

    phase: Phase
    exit_status: int | None = None  # the program exited with this status
    signal: int | None = None  # ... or was ended by this signal
    keeps_running: bool = False  # detached and the program runs on

    @classmethod
    def from_returncode(cls, phase: Phase, returncode: int | None) -> LiveState:
        """A Popen returncode (negative = killed by that signal) as a final state."""
        if returncode is None:
            return cls(phase)
        if returncode < 0:
            return cls(phase, signal=-returncode)
        return cls(phase, exit_status=returncode)

    @property
    def running(self) -> bool:
        return self.phase in ACTIVE

    def how(self) -> str:
        """How the program ended ("exit status 3", "SIGTERM"), or "" when unknown."""
        if self.signal is not None:
            return signal_name(self.signal)
        if self.exit_status is not None:
            return f"exit status {self.exit_status}"
        return ""

    def text(self) -> str:
        """One line for people: "running", "ended, exit status 3", "stopped (SIGTERM)", ..."""
        how = self.how()
        if self.phase is Phase.ENDED:
            if self.signal is not None:
                return f"ended by signal {how}"
            return f"ended, {how}" if how else "ended"
        if self.phase is Phase.STOPPED:
            return f"stopped ({how})" if how else "stopped"
        if self.phase is Phase.DETACHED:
            return "detached (the program keeps running)" if self.keeps_running else "detached"
        return self.phase.value

    def headline(self) -> tuple[str, str]:
        """(head, detail) for the live bar once the session is over."""
        if self.phase is Phase.DETACHED:
            return "Detached", "the program keeps running" if self.keeps_running else "profiling stopped"
        if self.phase is Phase.STOPPED:
            return "The program was stopped", self.how() or "stopped"
        if self.phase is Phase.ENDED:
            detail = f"by signal {self.how()}" if self.signal is not None else self.how()
            return "The program has ended", detail or "status unknown"
        return self.phase.value.capitalize(), ""

    def shell_status(self) -> int:
        """The program's end as a shell would report it (128 + N for signal N), 0 when unknown."""
        if self.signal is not None:
            return 128 + self.signal
        return self.exit_status or 0

    def __str__(self) -> str:
        return self.text()
