"""`pyrometer.profile`: record a block of the calling program to a .pyro file, in-process.

    with pyrometer.profile("run.pyro", rate=200):
        work()

    @pyrometer.profile("run.pyro")
    def main(): ...

The same AgentSession as a launched recording runs here, writing through a
file sink instead of a socket, so the file has the same content (META with
``attached: true``, samples, loops, tasks, END). One session at a time per
process: the sampler and hooks are process-wide.

When the block ends its recording is read back and added to the run history
(`pyrometer history`; ``history=False`` skips it, ``name=`` names the
program): that imports numpy and the readers into the process once, at the
end, never while the block runs.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

from pyrometer.core.agent import defaults
from pyrometer.core.agent.transport import FileSink

F = TypeVar("F", bound=Callable[..., Any])

_active_lock = threading.Lock()
_active: profile | None = None


class profile:  # lower case: used like a function, `pyrometer.profile(...)`
    """Context manager and decorator that records what runs inside it."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        rate: float = defaults.RATE_HZ,
        mode: str = defaults.MODE,
        clock: str = defaults.CLOCK,
        loop_interval: float = defaults.LOOP_INTERVAL_MS,
        block_threshold: float = defaults.BLOCK_THRESHOLD_MS,
        history: bool = True,
        name: str | None = None,
        **options: Any,
    ) -> None:
        self.path = os.fspath(path)
        self.history = history  # add the block as a run of `name` (default: this program) to `pyrometer history`
        self.name = name
        self.options: dict[str, Any] = {
            "rate_hz": float(rate),
            "mode": mode,
            "clock": clock,
            "loop_interval_ms": float(loop_interval),
            "block_threshold_ms": float(block_threshold),
            **options,
        }
        self._session: Any = None
        self._sink: FileSink | None = None

    def start(self) -> None:
        """Begin recording (what `with` does on entry)."""
        global _active
        from pyrometer.core.agent.session import AgentSession

        with _active_lock:
            if _active is not None:
                raise RuntimeError("pyrometer.profile is already recording in this process")
            _active = self
        try:
            options = {"attached": True, "argv": list(sys.argv), **self.options}
            self._sink = FileSink(self.path)
            self._session = AgentSession(options, self._sink)
            self._sink.start()
            for ident in self._sink.thread_idents():
                self._session.add_agent_thread(ident)
            self._session.start()
        except BaseException:
            self._release()
            raise

    def stop(self, exit_status: int | None = None) -> None:
        """End the recording; the file is complete when this returns (and its run is in the history)."""
        recorded = self._session is not None
        try:
            if self._session is not None:
                self._session.stop("exit", exit_status)
        finally:
            self._release()
        if recorded and self.history:
            from pyrometer.core.history.runs import add_recording, program_key_here

            add_recording(self.path, self.name or program_key_here(), exit_status)

    def _release(self) -> None:
        global _active
        sink, self._sink = self._sink, None
        self._session = None
        if sink is not None:
            sink.close()
        with _active_lock:
            if _active is self:
                _active = None

    def __enter__(self) -> profile:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        status: int | None = None
        if isinstance(exc, SystemExit):
            code = exc.code
            status = code if isinstance(code, int) else (0 if code is None else 1)
        elif exc is not None:
            status = 1
        self.stop(status)

    def _fresh(self) -> profile:
        clone = profile.__new__(profile)
        clone.path = self.path
        clone.options = dict(self.options)
        clone.history = self.history
        clone.name = self.name
        clone._session = None
        clone._sink = None
        return clone

    def __call__(self, func: F) -> F:
        """Decorate a function (or coroutine function): each call is recorded, overwriting the file."""
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with self._fresh():
                    return await func(*args, **kwargs)

            return run_async  # type: ignore[return-value]

        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            with self._fresh():
                return func(*args, **kwargs)

        return run  # type: ignore[return-value]
