"""Interning of frames, stacks, threads and loops, and their definition messages.

Every frame ``(file, line, function)`` and every stack ``(parent, frame)`` is
sent once; samples, blocking events and await snapshots then carry small
integers. New definitions accumulate here and are taken (as FRAMES, STACKS,
THREADS and LOOPS frames) by the session right before it sends anything that
may refer to them, under the session's send lock, so a reader always sees a
definition before its first use.
"""

from __future__ import annotations

import os
import sys
import threading
from types import CodeType, FrameType

from . import wire
from .clock import thread_cpu_clock

TYPE_CHECKING = False  # typing stays unimported in the target (start-up cost); mypy knows the name
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Tuple

_QUALNAME = sys.version_info >= (3, 11)
AGENT_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
"""Code from this directory is the agent's: never shown in a stack, so the agent is
never blamed for a stall or charged a sample in the program's threads."""
AGENT_THREAD_PREFIX = "pyrometer"
"""Threads whose name starts with this are the agent's own and are never sampled."""


def code_name(code: CodeType) -> str:
    if _QUALNAME:
        return code.co_qualname  # type: ignore[attr-defined,no-any-return]
    return code.co_name



def code_chain(frame: Optional[FrameType]) -> List[Tuple[CodeType, int]]:
    """(code, line) of a frame and its callers, innermost first: what a sample keeps of a stack
    (the sampler's and the SIGALRM handler's one pass over ``f_back``)."""
    chain: List[Tuple[CodeType, int]] = []
    append = chain.append
    f = frame
    while f is not None:
        append((f.f_code, f.f_lineno or 0))
        f = f.f_back
    return chain

class Interner:
    """Frame and stack ids; thread-safe (the sampler, watchdog and loop threads all intern)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()  # re-entered when stop() runs in a signal handler
        # (id(code), line) -> frame id; the code objects are kept alive in _codes so
        # an id() is never reused for a different code object during the session.
        self._frame_ids: Dict[Tuple[int, int], int] = {}
        self._codes: Dict[int, CodeType] = {}
        self._stack_ids: Dict[Tuple[int, int], int] = {}
        # (parent stack, id(code), line) -> stack: one lookup per frame on the hot path
        self._steps: Dict[Tuple[int, int, int], int] = {}
        self._new_frames: List[List[Any]] = []
        self._new_parents: List[int] = []
        self._new_stack_frames: List[int] = []
        self._first_new_stack = 0
        self.frame_count = 0
        self.stack_count = 0
        self._new_threads: List[List[Any]] = []
        self._new_loops: List[List[Any]] = []
        self._elided: set = set()  # id() of the agent's hook wrappers, left out of stacks
        self._unsent = b""

    def elide(self, func: Any) -> None:
        """Leave frames of this (hook wrapper) function out of every stack.

        The selector / factory wrappers run inside the user's threads; without
        this every idle sample of an event loop would show an agent frame.
        """
        code = getattr(func, "__code__", None)
        if code is not None:
            self._codes[id(code)] = code  # keep it alive: its id must stay unique
            self._elided.add(id(code))

    def elided_places(self) -> set:
        """(file, first line) of each elided wrapper: trace mode looks through them too."""
        with self.lock:
            return {(self._codes[i].co_filename, self._codes[i].co_firstlineno) for i in self._elided if i in self._codes}
    def _is_agent_code(self, code: CodeType) -> bool:
        """First sight of a code object: elide it from now on if it is the agent's."""
        if code.co_filename.startswith(AGENT_DIR):
            self._codes[id(code)] = code
            self._elided.add(id(code))
            return True
        return False

    # ------------------------------------------------------------ frames/stacks
    def _frame_id(self, code: CodeType, line: int) -> int:
        key = (id(code), line)
        fid = self._frame_ids.get(key)
        if fid is None:
            fid = self.frame_count
            self.frame_count += 1
            self._frame_ids[key] = fid
            self._codes[id(code)] = code
            self._new_frames.append([fid, code.co_filename, line, code_name(code), code.co_firstlineno])
        return fid

    def _stack_id(self, parent: int, fid: int) -> int:
        key = (parent, fid)
        sid = self._stack_ids.get(key)
        if sid is None:
            sid = self.stack_count
            self.stack_count += 1
            self._stack_ids[key] = sid
            self._new_parents.append(parent)
            self._new_stack_frames.append(fid)
        return sid

    def intern_codes(self, leaf_first: List[Tuple[CodeType, int]]) -> int:
        """Stack id of a list of (code, line) pairs given innermost first; -1 if empty."""
        step = self._steps
        sget = step.get
        elided = self._elided
        with self.lock:
            sid = -1
            for i in range(len(leaf_first) - 1, -1, -1):
                code, line = leaf_first[i]
                if id(code) in elided:
                    continue
                key = (sid, id(code), line)
                nxt = sget(key)
                if nxt is None:
                    if self._is_agent_code(code):
                        continue
                    nxt = self._stack_id(sid, self._frame_id(code, line))
                    step[key] = nxt
                sid = nxt
            return sid

    def intern_frame_chain(self, frame: Optional[FrameType]) -> int:
        """Stack id of a frame and its callers (``f_back`` chain).

        The hot path of the sampler: one pass collects (code, line) innermost
        first, then intern_codes walks it root first under the lock.
        """
        return self.intern_codes(code_chain(frame))

    # ------------------------------------------------------------ threads/loops
    def announce_thread(self, tid: int, name: str, native_id: Optional[int]) -> None:
        with self.lock:
            self._new_threads.append([tid, name, native_id])

    def announce_loop(self, loop_id: int, thread_id: int, description: str) -> None:
        with self.lock:
            self._new_loops.append([loop_id, thread_id, description])

    # ------------------------------------------------------------ definitions
    def give_back(self, data: bytes) -> None:
        """Definitions the sink did not take: they go out first next time (ids must stay dense)."""
        with self.lock:
            self._unsent = data + self._unsent

    def take_definitions(self) -> bytes:
        """Frames for everything interned since the last call (b"" when nothing is new)."""
        with self.lock:
            if not (self._new_frames or self._new_parents or self._new_threads or self._new_loops):
                unsent, self._unsent = self._unsent, b""
                return unsent
            parts = [self._unsent]
            self._unsent = b""
            if self._new_frames:
                parts.append(wire.frames_frame(self._new_frames))  # type: ignore[arg-type]
                self._new_frames = []
            if self._new_parents:
                parts.append(wire.stacks_frame(self._first_new_stack, self._new_parents, self._new_stack_frames))
                self._first_new_stack = self.stack_count
                self._new_parents = []
                self._new_stack_frames = []
            if self._new_threads:
                parts.append(wire.json_frame(wire.THREADS, self._new_threads))
                self._new_threads = []
            if self._new_loops:
                parts.append(wire.json_frame(wire.LOOPS, self._new_loops))
                self._new_loops = []
            return b"".join(parts)


class ThreadRecord:
    """What the agent knows about one thread (keyed by ``threading`` ident)."""

    __slots__ = (
        "agent", "clock_id", "ident", "last_cpu", "last_stack", "last_task", "last_time", "name", "native_id",
        "thread", "tid",
    )

    def __init__(self, tid: int, ident: int, thread: Optional[threading.Thread]) -> None:
        self.tid = tid
        self.ident = ident
        self.thread = thread
        self.name = thread.name if thread is not None else "thread-%d" % ident
        self.native_id: Optional[int] = getattr(thread, "native_id", None) if thread is not None else None
        self.agent = self.name.startswith(AGENT_THREAD_PREFIX)
        self.clock_id = thread_cpu_clock(ident, self.native_id)
        self.last_time = -1.0
        self.last_cpu = -1.0
        self.last_stack = -1
        self.last_task = -1


class ThreadTable:
    """Small thread ids, announced in THREADS; a reused ident with a new Thread is a new id."""

    def __init__(self, interner: Interner) -> None:
        self._interner = interner
        self._by_ident: Dict[int, ThreadRecord] = {}
        self._lock = threading.RLock()
        self._next = 0
        self.agent_idents: set = set()

    def get(self, ident: int) -> ThreadRecord:
        """The record for a live thread ident, creating / renaming (and announcing) as needed."""
        th = threading._active.get(ident)  # type: ignore[attr-defined]
        rec = self._by_ident.get(ident)
        if rec is not None and th is None:
            return rec  # a finishing thread has left _active while its frames still run: still itself
        if rec is not None and rec.thread is th:
            if th is not None and th.name != rec.name:
                rec.name = th.name
                rec.agent = rec.name.startswith(AGENT_THREAD_PREFIX)
                if not rec.agent:
                    self._interner.announce_thread(rec.tid, rec.name, rec.native_id)
            return rec
        with self._lock:
            again = self._by_ident.get(ident)
            if again is not None and again.thread is th:
                return again  # another thread registered it meanwhile
            rec = ThreadRecord(self._next, ident, th)
            self._next += 1
            if ident in self.agent_idents:
                rec.agent = True
            self._by_ident[ident] = rec
        if not rec.agent:  # the agent's own threads (e.g. attach's short-lived starter) are not the program's
            self._interner.announce_thread(rec.tid, rec.name, rec.native_id)
        return rec

    def peek(self, ident: int) -> Optional[ThreadRecord]:
        """The record of a thread if it has one (any thread; never creates)."""
        return self._by_ident.get(ident)

    def is_agent(self, ident: int) -> bool:
        if ident in self.agent_idents:
            return True
        rec = self._by_ident.get(ident)
        return rec is not None and rec.agent

    def forget_missing(self, live: Any) -> None:
        """Drop records of threads that are gone (keeps the table small in thread-churning apps)."""
        for ident in [i for i in self._by_ident if i not in live]:
            self._by_ident.pop(ident, None)
        # an exited agent thread's ident may be reused by a user thread; only idents
        # registered before this fresh look at the live threads can be judged gone
        registered = list(self.agent_idents)
        alive = sys._current_frames()
        for ident in registered:
            if ident not in alive:
                self.agent_idents.discard(ident)
