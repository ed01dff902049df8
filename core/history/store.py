"""The history database: `history.sqlite3` under $PYROMETER_HOME, versioned, safe to share.

Why SQLite: one file, the standard library, transactions, and WAL lets a
reader (the window) and several writers (recordings finishing at once) share
it. Writers wait on a busy timeout and retry a few times on top of it, so two
`pyrometer record` processes that end together both land their runs.

The schema version lives in `PRAGMA user_version`; `MIGRATIONS[i]` takes a
database from version i to i + 1, in one transaction, so an old file is
brought up to date when it is opened and a failed step leaves it as it was.
A run keeps aggregates only (one row per function, names interned once per
database), never samples: 1,000 functions cost ~30 KB a run.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

DB_NAME = "history.sqlite3"
BUSY_TIMEOUT_MS = 1500  # a run's write takes milliseconds; a lock held longer is someone stuck
RETRIES = 2  # worst case ~5 s before the one warning line, at the end of a recording
T = TypeVar("T")

# version 1 -> 2 ... ; index i upgrades from version i to i + 1
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # 0 -> 1: the first release of the history
        "CREATE TABLE programs (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE)",
        "CREATE TABLE functions (id INTEGER PRIMARY KEY, ident TEXT NOT NULL UNIQUE, name TEXT NOT NULL, file TEXT NOT NULL)",
        "CREATE TABLE runs (id INTEGER PRIMARY KEY, program INTEGER NOT NULL REFERENCES programs(id),"
        " started REAL NOT NULL, duration_s REAL NOT NULL, exit_status INTEGER, samples INTEGER,"
        " total REAL NOT NULL, path TEXT)",
        "CREATE INDEX runs_by_program ON runs (program, started)",
        "CREATE TABLE run_functions (run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
        " func INTEGER NOT NULL REFERENCES functions(id), self REAL NOT NULL, total REAL NOT NULL,"
        " PRIMARY KEY (run, func)) WITHOUT ROWID",
    ),
    (  # 1 -> 2: where a run ran, its unit, self sample counts (the regression test's evidence) and calls
        "ALTER TABLE runs ADD COLUMN python TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE runs ADD COLUMN host TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE runs ADD COLUMN unit TEXT NOT NULL DEFAULT 'seconds'",
        "ALTER TABLE runs ADD COLUMN source_format TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE run_functions ADD COLUMN self_samples INTEGER",
        "ALTER TABLE run_functions ADD COLUMN calls INTEGER",
    ),
    (  # 2 -> 3: each function's def line (to pair identity keys that grew in one run only)
        "ALTER TABLE functions ADD COLUMN line INTEGER NOT NULL DEFAULT 0",
    ),
    (  # 3 -> 4: a sampled run's on-CPU seconds, all threads and each function's self (NULL: not measured)
        "ALTER TABLE runs ADD COLUMN cpu_s REAL",
        "ALTER TABLE run_functions ADD COLUMN cpu_self REAL",
    ),
    (  # 4 -> 5: a run whose file gives no duration (callgrind of instructions, pprof, collapsed): 0 = unknown,
        # so duration_s (NOT NULL since version 1) is never read as a measured 0
        "ALTER TABLE runs ADD COLUMN duration_known INTEGER NOT NULL DEFAULT 1",
        # what the run's weights measure (analysis.measures: wall, cpu, running...); NULL: not known
        "ALTER TABLE runs ADD COLUMN measures TEXT",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


class HistoryError(Exception):
    """The history cannot be read or written (locked, corrupt, newer, unwritable): one line for the user."""


def history_home() -> Path:
    """$PYROMETER_HOME, else $XDG_DATA_HOME/pyrometer, else ~/.local/share/pyrometer."""
    home = os.environ.get("PYROMETER_HOME")
    if home:
        return Path(home).expanduser()
    data = os.environ.get("XDG_DATA_HOME")
    base = Path(data).expanduser() if data else Path.home() / ".local" / "share"
    return base / "pyrometer"


def default_db_path() -> Path:
    return history_home() / DB_NAME


@dataclass
class FunctionAggregate:
    """One function's cost in one run (seconds when the run's unit is seconds)."""

    ident: str  # identity key, the same across checkouts and Python versions
    name: str  # as `stats --json` names it
    file: str
    self: float
    total: float
    self_samples: int | None = None  # samples with the function innermost; None for deterministic sources
    calls: int | None = None
    line: int = 0  # def line
    cpu_self: float | None = None  # on-CPU self seconds (thread CPU clock); None when not measured


@dataclass
class RunRecord:
    """What one run leaves in the history."""

    program: str
    started: float  # epoch seconds
    duration_s: float | None  # None: the source says nothing of how long the run took
    total: float  # the sum the shares are of (thread seconds, or samples)
    exit_status: int | None = None
    samples: int | None = None
    path: str | None = None
    python: str = ""
    host: str = ""
    unit: str = "seconds"
    source_format: str = ""
    functions: list[FunctionAggregate] = field(default_factory=list)
    id: int = 0  # set by the store
    cpu_s: float | None = None  # on-CPU seconds of all threads (thread CPU clock); None when not measured
    measures: str | None = None  # what its weights measure: a kind of analysis.measures ("wall", "cpu"...); None unknown


@dataclass
class ProgramSummary:
    key: str
    runs: int
    last_started: float
    last_duration_s: float | None  # None: unknown (see RunRecord.duration_s)
    durations: list[float | None]  # the last few run durations, oldest first (for a trend)
    last_path: str | None = None  # the newest run's recording


def _duration(value: float, known: int) -> float | None:
    """A run's stored duration, None where its source gave none (the stored number is a placeholder)."""
    return float(value) if known else None


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, sqlite3.DatabaseError) and ("not a database" in text or "malformed" in text):
        return f"corrupt database ({text})"
    return text


class HistoryStore:
    """One connection to the history database; every public method raises only HistoryError."""

    def __init__(
        self, path: str | os.PathLike[str] | None = None, *, retries: int | None = None, busy_timeout_ms: int | None = None
    ) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        self.retries = RETRIES if retries is None else retries
        busy_timeout_ms = BUSY_TIMEOUT_MS if busy_timeout_ms is None else busy_timeout_ms
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(self.path, timeout=busy_timeout_ms / 1000.0, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise HistoryError(f"{self.path}: {_describe(exc)}") from exc
        try:
            self._retry(self._open)
        except HistoryError:
            self.conn.close()
            raise

    def _open(self) -> None:
        c = self.conn
        mode = c.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":  # e.g. a file system without shared memory: still correct, only slower
            c.execute("PRAGMA journal_mode = DELETE")
        c.execute("PRAGMA foreign_keys = ON")
        c.execute("PRAGMA synchronous = NORMAL")
        self.migrate()

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ plumbing
    def _retry(self, fn: Callable[[], T]) -> T:
        """Run `fn`; on 'database is locked' wait and try again, on anything else fail with one line."""
        delay = 0.05
        for attempt in range(self.retries + 1):
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                locked = "locked" in str(exc) or "busy" in str(exc)
                if not locked or attempt == self.retries:
                    raise HistoryError(f"{self.path}: {_describe(exc)}") from exc
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
            except sqlite3.Error as exc:
                raise HistoryError(f"{self.path}: {_describe(exc)}") from exc
        raise AssertionError("unreachable")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE takes the write lock up front, so a busy database fails here, not mid-way."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self, upto: int = SCHEMA_VERSION) -> None:
        """Bring the file to version `upto`, one transaction per step (tests stop early to make old files)."""
        current = self.version()
        if current > SCHEMA_VERSION:
            raise HistoryError(f"{self.path}: written by a newer Pyrometer (schema {current}, this one knows {SCHEMA_VERSION})")
        for step in range(current, upto):
            with self._write() as c:
                if int(c.execute("PRAGMA user_version").fetchone()[0]) != step:
                    continue  # another process migrated it meanwhile
                for statement in MIGRATIONS[step]:
                    c.execute(statement)
                c.execute(f"PRAGMA user_version = {step + 1}")

    # ------------------------------------------------------------ writing
    def add_run(self, run: RunRecord) -> int:
        """Store one run with its functions (one transaction); returns its id."""
        return self._retry(lambda: self._add_run(run))

    def _add_run(self, run: RunRecord) -> int:
        with self._write() as c:
            c.execute("INSERT OR IGNORE INTO programs (key) VALUES (?)", (run.program,))
            program = c.execute("SELECT id FROM programs WHERE key = ?", (run.program,)).fetchone()[0]
            cur = c.execute(
                "INSERT INTO runs (program, started, duration_s, duration_known, exit_status, samples, total, path, python,"
                " host, unit, source_format, cpu_s, measures) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (program, run.started, 0.0 if run.duration_s is None else run.duration_s, int(run.duration_s is not None),
                 run.exit_status, run.samples, run.total, run.path, run.python, run.host, run.unit, run.source_format, run.cpu_s,
                 run.measures),
            )
            run_id = int(cur.lastrowid or 0)
            c.executemany(
                # the latest spelling wins: names read like the newest recording's `stats --json`
                "INSERT INTO functions (ident, name, file, line) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (ident) DO UPDATE SET name = excluded.name, file = excluded.file, line = excluded.line",
                [(f.ident, f.name, f.file, f.line) for f in run.functions],
            )
            ids = self._function_ids(c, [f.ident for f in run.functions])
            merged: dict[int, list[float | int | None]] = {}
            for f in run.functions:  # two spellings of one function in one run: add them up
                fid = ids[f.ident]
                row = merged.get(fid)
                if row is None:
                    merged[fid] = [f.self, f.total, f.self_samples, f.calls, f.cpu_self]
                else:
                    row[0] = float(row[0] or 0) + f.self
                    row[1] = max(float(row[1] or 0), f.total)
                    row[2] = None if row[2] is None or f.self_samples is None else int(row[2]) + f.self_samples
                    row[3] = None if row[3] is None or f.calls is None else int(row[3]) + f.calls
                    row[4] = None if row[4] is None or f.cpu_self is None else float(row[4]) + f.cpu_self
            c.executemany(
                "INSERT INTO run_functions (run, func, self, total, self_samples, calls, cpu_self) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(run_id, fid, *row) for fid, row in merged.items()],
            )
        run.id = run_id
        return run_id

    @staticmethod
    def _function_ids(c: sqlite3.Connection, idents: Sequence[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        unique = list(dict.fromkeys(idents))
        for i in range(0, len(unique), 500):  # stay under SQLite's variable limit
            chunk = unique[i : i + 500]
            marks = ",".join("?" * len(chunk))
            out.update(c.execute(f"SELECT ident, id FROM functions WHERE ident IN ({marks})", chunk).fetchall())
        return out

    def forget(self, run_ids: Sequence[int] = (), program: str | None = None) -> int:
        """Remove runs by id, or all runs of a program; returns how many went."""

        def go() -> int:
            with self._write() as c:
                n = 0
                for rid in run_ids:
                    n += c.execute("DELETE FROM runs WHERE id = ?", (int(rid),)).rowcount
                if program is not None:
                    n += c.execute("DELETE FROM runs WHERE program = (SELECT id FROM programs WHERE key = ?)", (program,)).rowcount
                c.execute("DELETE FROM programs WHERE id NOT IN (SELECT DISTINCT program FROM runs)")
                return n

        return self._retry(go)

    # ------------------------------------------------------------ reading
    def programs(self, trend_runs: int = 10, limit: int | None = None) -> list[ProgramSummary]:
        """Every program with runs (the first `limit`), the most recently run first."""

        def go() -> list[ProgramSummary]:
            rows = self.conn.execute(
                "SELECT p.key, COUNT(r.id), MAX(r.started) FROM programs p JOIN runs r ON r.program = p.id"
                " GROUP BY p.id ORDER BY MAX(r.started) DESC, p.key LIMIT ?",
                (-1 if limit is None else int(limit),),
            ).fetchall()
            out = []
            for key, n, last in rows:
                recent = self.conn.execute(
                    "SELECT duration_s, duration_known, path FROM runs r JOIN programs p ON r.program = p.id WHERE p.key = ?"
                    " ORDER BY r.started DESC, r.id DESC LIMIT ?",
                    (key, trend_runs),
                ).fetchall()
                durations = [_duration(d, known) for d, known, _ in recent][::-1]
                out.append(ProgramSummary(key, int(n), float(last), durations[-1], durations, recent[0][2]))
            return out

        return self._retry(go)

    def program_keys(self) -> list[str]:
        return [k for (k,) in self._retry(lambda: self.conn.execute("SELECT key FROM programs ORDER BY key").fetchall())]

    def runs(self, program: str, last: int | None = 20, with_functions: bool = True) -> list[RunRecord]:
        """The program's last `last` runs (all when None), oldest first."""

        def go() -> list[RunRecord]:
            limit = -1 if last is None else int(last)
            rows = self.conn.execute(
                "SELECT r.id, r.started, r.duration_s, r.duration_known, r.exit_status, r.samples, r.total, r.path, r.python, r.host,"
                " r.unit, r.source_format, r.cpu_s, r.measures FROM runs r JOIN programs p ON r.program = p.id WHERE p.key = ?"
                " ORDER BY r.started DESC, r.id DESC LIMIT ?",
                (program, limit),
            ).fetchall()
            runs = [
                RunRecord(program, started, _duration(duration, known), total, status, samples, path, python, host, unit, fmt, [], rid,
                          cpu, measures)
                for rid, started, duration, known, status, samples, total, path, python, host, unit, fmt, cpu, measures in reversed(rows)
            ]
            if with_functions:
                for run in runs:
                    run.functions = [
                        FunctionAggregate(ident, name, file, s, t, ss, calls, line, cpu)
                        for ident, name, file, s, t, ss, calls, line, cpu in self.conn.execute(
                            "SELECT f.ident, f.name, f.file, rf.self, rf.total, rf.self_samples, rf.calls, f.line, rf.cpu_self"
                            " FROM run_functions rf JOIN functions f ON rf.func = f.id WHERE rf.run = ?",
                            (run.id,),
                        ).fetchall()
                    ]
            return runs

        return self._retry(go)

    def program_for_path(self, path: str | os.PathLike[str]) -> str | None:
        """The program whose latest run was recorded to `path` (how an opened recording finds its history)."""
        resolved = str(Path(path).resolve())
        row = self._retry(
            lambda: self.conn.execute(
                "SELECT p.key FROM runs r JOIN programs p ON r.program = p.id WHERE r.path = ? ORDER BY r.started DESC, r.id DESC LIMIT 1",
                (resolved,),
            ).fetchone()
        )
        return None if row is None else str(row[0])

    def program_idents(self, program: str) -> list[tuple[str, int]]:
        """(identity key, def line) of every function the program's runs have seen."""
        rows = self._retry(
            lambda: self.conn.execute(
                "SELECT DISTINCT f.ident, f.line FROM run_functions rf JOIN functions f ON rf.func = f.id"
                " JOIN runs r ON rf.run = r.id JOIN programs p ON r.program = p.id WHERE p.key = ?",
                (program,),
            ).fetchall()
        )
        return [(str(i), int(line)) for i, line in rows]

    def data_version(self) -> int:
        """Changes when another connection commits: a reader knows when to read again."""
        return int(self._retry(lambda: self.conn.execute("PRAGMA data_version").fetchone()[0]))

    def run(self, run_id: int) -> RunRecord | None:
        row = self._retry(
            lambda: self.conn.execute("SELECT p.key FROM runs r JOIN programs p ON r.program = p.id WHERE r.id = ?", (run_id,)).fetchone()
        )
        if row is None:
            return None
        return next((r for r in self.runs(row[0], None) if r.id == run_id), None)
