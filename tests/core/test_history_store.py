"""The run history's SQLite store: migrations, concurrent writers, a locked or corrupt file, size per run."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from pyrometer.core.history import runs as history_runs
from pyrometer.core.history import store as store_module
from pyrometer.core.history.store import (
    DB_NAME,
    SCHEMA_VERSION,
    FunctionAggregate,
    HistoryError,
    HistoryStore,
    RunRecord,
    default_db_path,
)
from pyrometer.core.model import Profile


def make_run(program: str = "prog", n_funcs: int = 3, started: float = 1000.0, scale: float = 1.0) -> RunRecord:
    funcs = [
        FunctionAggregate(
            ident=f"pkg/module_{i % 40}.py\x1ffunction_number_{i}\x1f0",
            name=f"SomeClass.function_number_{i}",
            file=f"/home/someone/checkouts/project/pkg/module_{i % 40}.py",
            self=0.01 * (i + 1) * scale,
            total=0.02 * (i + 1) * scale,
            self_samples=i + 1,
            calls=10 * i if i % 2 else None,
        )
        for i in range(n_funcs)
    ]
    return RunRecord(
        program=program,
        started=started,
        duration_s=1.5,
        total=sum(f.self for f in funcs),
        exit_status=0,
        samples=sum(f.self_samples or 0 for f in funcs),
        path="/tmp/run.pyro",
        python="3.11.7",
        host="vm",
        functions=funcs,
    )


def test_home_follows_pyrometer_home_then_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYROMETER_HOME", str(tmp_path / "ph"))
    assert default_db_path() == tmp_path / "ph" / DB_NAME
    monkeypatch.delenv("PYROMETER_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_db_path() == tmp_path / "xdg" / "pyrometer" / DB_NAME


def test_the_suite_never_writes_the_real_history() -> None:
    assert not str(default_db_path()).startswith(str(Path.home() / ".local" / "share"))


def test_a_run_round_trips_with_its_functions_and_uses_wal(tmp_path: Path) -> None:
    db = tmp_path / DB_NAME
    with HistoryStore(db) as store:
        run_id = store.add_run(make_run())
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.version() == SCHEMA_VERSION
    with HistoryStore(db) as store:
        (back,) = store.runs("prog")
    assert back.id == run_id and back.python == "3.11.7" and back.host == "vm" and back.samples == 6
    by_name = {f.name: f for f in back.functions}
    assert by_name["SomeClass.function_number_2"].self == pytest.approx(0.03)
    assert by_name["SomeClass.function_number_1"].calls == 10
    assert by_name["SomeClass.function_number_0"].calls is None


def test_a_run_of_1000_functions_costs_at_most_50_kb(tmp_path: Path) -> None:
    db = tmp_path / DB_NAME

    def size(store: HistoryStore) -> int:
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return int(store.conn.execute("PRAGMA page_count").fetchone()[0]) * int(store.conn.execute("PRAGMA page_size").fetchone()[0])

    with HistoryStore(db) as store:
        store.add_run(make_run(n_funcs=1000, started=1.0))
        first = size(store)
        for i in range(10):
            store.add_run(make_run(n_funcs=1000, started=2.0 + i, scale=1.0 + i / 10))
        per_run = (size(store) - first) / 10
    print(f"first run {first} bytes, each further run {per_run:.0f} bytes")
    assert per_run <= 50 * 1024, per_run
    # the first run also interns the 1,000 names, files and identity keys once (~200 bytes each here)
    assert first <= 300 * 1024, first


def test_migrates_a_version_1_file_and_keeps_its_runs(tmp_path: Path) -> None:
    db = tmp_path / DB_NAME
    # version 1 exactly as it shipped (frozen here, not taken from the code that migrates it)
    conn = sqlite3.connect(db)
    conn.executescript(
        textwrap.dedent(
            """
            CREATE TABLE programs (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE);
            CREATE TABLE functions (id INTEGER PRIMARY KEY, ident TEXT NOT NULL UNIQUE, name TEXT NOT NULL, file TEXT NOT NULL);
            CREATE TABLE runs (id INTEGER PRIMARY KEY, program INTEGER NOT NULL REFERENCES programs(id),
              started REAL NOT NULL, duration_s REAL NOT NULL, exit_status INTEGER, samples INTEGER,
              total REAL NOT NULL, path TEXT);
            CREATE INDEX runs_by_program ON runs (program, started);
            CREATE TABLE run_functions (run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
              func INTEGER NOT NULL REFERENCES functions(id), self REAL NOT NULL, total REAL NOT NULL,
              PRIMARY KEY (run, func)) WITHOUT ROWID;
            INSERT INTO programs VALUES (1, 'old');
            INSERT INTO functions VALUES (1, 'a.py\x1ff\x1f0', 'f', '/x/a.py');
            INSERT INTO runs VALUES (1, 1, 500.0, 2.0, 0, 200, 2.0, '/gone.pyro');
            INSERT INTO run_functions VALUES (1, 1, 1.5, 2.0);
            PRAGMA user_version = 1;
            """
        )
    )
    conn.close()
    with HistoryStore(db) as store:
        assert store.version() == SCHEMA_VERSION
        (old,) = store.runs("old")
        store.add_run(make_run("old", started=600.0))
        both = store.runs("old")
    assert old.python == "" and old.host == "" and old.unit == "seconds"
    assert [f.self for f in old.functions] == [1.5] and old.functions[0].self_samples is None
    assert len(both) == 2 and both[0].id == 1


def test_a_newer_schema_is_refused_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / DB_NAME
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    with pytest.raises(HistoryError, match="newer Pyrometer"):
        HistoryStore(db)


def test_a_corrupt_file_is_one_history_error(tmp_path: Path) -> None:
    db = tmp_path / DB_NAME
    db.write_bytes(b"this is not a database, it is a note somebody saved here\n" * 100)
    with pytest.raises(HistoryError, match="corrupt database"):
        HistoryStore(db)


def test_deleting_a_run_keeps_the_others_and_forgets_empty_programs(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / DB_NAME) as store:
        a = store.add_run(make_run("a", started=1))
        store.add_run(make_run("a", started=2))
        store.add_run(make_run("b", started=3))
        assert store.forget(run_ids=[a]) == 1
        assert [r.started for r in store.runs("a")] == [2]
        assert store.forget(program="b") == 1
        assert store.program_keys() == ["a"]
        left = store.conn.execute("SELECT COUNT(*) FROM run_functions").fetchone()[0]
    assert left == 3  # the forgotten runs' function rows went with them


WRITER = """
import sys, time
sys.path.insert(0, {tests!r})
from test_history_store import make_run
from pyrometer.core.history.store import HistoryStore
go = float(sys.argv[2])
while time.time() < go:
    time.sleep(0.001)
with HistoryStore(sys.argv[1]) as store:  # both open (create, migrate) and write at the same instant
    for i in range(100):  # enough that the two collide (20 often did not, even without retries)
        store.add_run(make_run("shared", n_funcs=200, started=go + i))
print("ok")
"""


def test_two_processes_writing_at_once_both_land(tmp_path: Path) -> None:
    db = tmp_path / DB_NAME  # not there yet: the two also race to create and migrate it
    script = tmp_path / "writer.py"
    script.write_text(WRITER.format(tests=str(Path(__file__).parent)))
    go = time.time() + 1.0  # both start writing at the same instant
    procs = [subprocess.Popen([sys.executable, str(script), str(db), repr(go)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    with HistoryStore(db) as store:
        assert len(store.runs("shared", None)) == 200


def test_a_writer_waits_for_a_held_lock_then_lands(tmp_path: Path) -> None:
    db = tmp_path / DB_NAME
    HistoryStore(db).close()
    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    timer = threading.Timer(0.5, lambda: holder.execute("COMMIT"))
    try:
        timer.start()
        t0 = time.monotonic()
        # a short busy timeout: the retries on top of it are what carry the write past the lock
        with HistoryStore(db, busy_timeout_ms=100, retries=10) as store:
            store.add_run(make_run("waited"))
            assert len(store.runs("waited")) == 1
        assert time.monotonic() - t0 >= 0.4
    finally:
        timer.join()
        holder.close()


def test_a_lock_held_too_long_costs_one_warning_line_not_the_caller(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / DB_NAME
    HistoryStore(db).close()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        # the real budget (~5 s) through the same code path, shortened
        monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 50)
        monkeypatch.setattr(store_module, "RETRIES", 1)
        from pyrometer.core.model import Profile

        assert history_runs.add_profile(Profile(), "locked", db=db) is None
    finally:
        holder.close()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "warning: run not added to the history" in err and "locked" in err


def _profile_of(functions: list[tuple[str, str, int]]) -> Profile:
    """One sample of 10 ms in each (name, file, def line)."""
    p = Profile()
    p.ensure_thread(0, "MainThread")
    stacks = [p.intern_stack_path([p.intern_frame(name, file, line + 1, line)]) for name, file, line in functions]
    p.add_samples(np.arange(len(stacks)) * 0.01, np.zeros(len(stacks), np.int32), np.array(stacks, np.int32), weight=0.01)
    p.finish()
    return p


def test_one_function_keeps_its_history_when_its_key_grew_in_another_run(tmp_path: Path) -> None:
    db = tmp_path / DB_NAME
    # run 1 ran two `Util.setup` methods (a/util.py, b/util.py): their keys needed more of the path;
    # run 2, on Python 3.10 from another checkout, ran only a's, spelled without its class (co_name)
    first = _profile_of([("Util.setup", "/ck1/a/util.py", 10), ("Util.setup", "/ck1/b/util.py", 20)])
    second = _profile_of([("setup", "/elsewhere/ck2/a/util.py", 10)])
    assert history_runs.add_profile(first, "p", db=db) is not None
    assert history_runs.add_profile(second, "p", db=db) is not None
    with HistoryStore(db) as store:
        runs = store.runs("p")
    idents = [{f.ident for f in r.functions} for r in runs]
    assert len(idents[0]) == 2 and idents[1] <= idents[0]  # the second run's setup is the first run's a/util.py one
    assert next(iter(idents[1])).startswith("a/util.py")
