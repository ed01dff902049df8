"""The HTML report carries the samples' on-CPU time, as `stats` does.

`stats` printed "cpu self / cpu total" per function and each thread's on-CPU seconds;
the report showed sampled wall time only, so a thread waiting 1.5 s and one burning the
CPU for 1.5 s looked alike in the page one shares. Checked against time.thread_time
measured by each thread of a real program.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest

PROGRAM = """
import json, threading, time
cpu = {}
def burn():
    x = 0
    for i in range(3_000_000):
        x += i
def worker(name):
    t0 = time.thread_time()
    burn()
    cpu[name] = time.thread_time() - t0
def waiter():
    time.sleep(0.5)
threads = [threading.Thread(target=worker, args=(n,), name=n) for n in ("burner-a", "burner-b")]
threads.append(threading.Thread(target=waiter, name="waiter"))
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps(cpu))
"""


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pyrometer", *map(str, args)], capture_output=True, text=True, timeout=60)


def _table(html: str, table_id: str) -> tuple[list[str], list[list[str]]]:
    start = html.index(f'<table id="{table_id}">')
    table = html[start : html.index("</table>", start)]
    heads = [unescape(h) for h in re.findall(r"<th>(.*?)</th>", table)]
    rows = [[unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
            for r in re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]]
    return heads, rows


def _seconds(text: str) -> float:
    value, unit = [*text.split(), "s"][:2]
    return float(value) * {"s": 1.0, "ms": 1e-3, "µs": 1e-6}[unit] if value != "0" else 0.0


def test_report_shows_on_cpu_time_per_thread_and_function(tmp_path: Path) -> None:
    script, rec, page = tmp_path / "threads.py", tmp_path / "t.pyro", tmp_path / "t.html"
    script.write_text(PROGRAM)
    res = _cli("record", "--no-history", "-o", rec, "--", script)
    assert res.returncode == 0, res.stderr
    truth: dict[str, float] = json.loads(res.stdout.strip().splitlines()[-1])
    assert _cli("report", rec, "-o", page).returncode == 0
    html = page.read_text()
    heads, rows = _table(html, "threads")
    assert heads == ["id", "name", "samples", "on CPU"], heads
    on_cpu = {row[1]: _seconds(row[3]) for row in rows}
    for name, seconds in truth.items():  # sampled CPU of each thread against its own clock
        assert on_cpu[name] == pytest.approx(seconds, rel=0.25, abs=0.03), (name, on_cpu[name], seconds)
    assert on_cpu["waiter"] < 0.02
    heads, rows = _table(html, "functions")
    assert heads[4:6] == ["cpu self", "cpu total"], heads
    burn = next(row for row in rows if row[heads.index("function")] == "burn")
    assert _seconds(burn[4]) == pytest.approx(sum(truth.values()), rel=0.25, abs=0.05), (burn, truth)
