"""The HTML report names the task that blocked the loop and the tasks it made late.

`stats` printed "by task blocker [6] <- Task-1 [0]" and "delayed 5 tasks: sleeper-0 ...",
but the report's blocking table had only the start, the duration, the function and the
stack: the asyncio answer (who held the loop, who waited) was not in the page one shares.
The delays are checked against what the sleepers measured themselves.
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
import asyncio, json, sys, time
late = {}
async def sleeper(i):
    loop = asyncio.get_running_loop()
    due = loop.time() + 0.05
    await asyncio.sleep(0.05)
    late[f"sleeper-{i}"] = (loop.time() - due) * 1000
async def blocker():
    await asyncio.sleep(0.01)
    time.sleep(0.3)
async def main():
    tasks = [asyncio.create_task(sleeper(i), name=f"sleeper-{i}") for i in range(5)]
    tasks.append(asyncio.create_task(blocker(), name="blocker"))
    await asyncio.gather(*tasks)
asyncio.run(main())
print(json.dumps(late))
"""


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pyrometer", *map(str, args)], capture_output=True, text=True, timeout=60)


def test_blocking_rows_name_the_blocker_and_the_delayed_tasks(tmp_path: Path) -> None:
    script, rec, page = tmp_path / "blk.py", tmp_path / "blk.pyro", tmp_path / "blk.html"
    script.write_text(PROGRAM)
    res = _cli("record", "--no-history", "-o", rec, "--", script)
    assert res.returncode == 0, res.stderr
    truth: dict[str, float] = json.loads(res.stdout.strip().splitlines()[-1])  # ms each sleeper resumed late
    assert _cli("report", rec, "-o", page).returncode == 0
    html = page.read_text()
    table = html[html.index('<table id="blocking">') : html.index("</table>", html.index('<table id="blocking">'))]
    heads = [unescape(h) for h in re.findall(r"<th>(.*?)</th>", table)]
    assert heads[:5] == ["start", "blocked for", "in function", "by task", "delayed tasks"], heads
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]
    if not rows:
        pytest.skip("the loop was not seen blocked (a starved watchdog)")
    cells = re.findall(r"<td[^>]*>(.*?)</td>", rows[0], re.S)
    assert unescape(re.sub(r"<[^>]+>", "", cells[3])).startswith("blocker ["), cells[3]
    listed = {name: float(ms) for name, ms in re.findall(r"<li>(sleeper-\d) \[\d+\] ([\d.]+) ms</li>", cells[4])}
    assert sorted(listed) == sorted(truth), (listed, truth)
    for name, ms in listed.items():
        assert ms == pytest.approx(truth[name], abs=max(20.0, 0.1 * truth[name])), (name, ms, truth[name])
