"""Pyrometer's demo target: a small asyncio service that exercises every pane.

It has an event loop serving fake requests (a 3-level task tree: server →
request handlers → per-request sub-tasks), worker threads doing CPU work in a
few hot functions, an occasional blocking call on the loop (time.sleep inside
a coroutine — the kind of bug the Event loop pane is for), and prints a line
now and then so the Console pane has output. Runs until stopped, or for
--duration seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import sys
import threading
import time

STOP = threading.Event()


# ---------------------------------------------------------------- hot CPU work
def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def checksum(data: bytes, rounds: int) -> str:
    digest = data
    for _ in range(rounds):
        digest = hashlib.sha256(digest).digest()
    return digest.hex()


def render_report(rows: int) -> str:
    table: list[dict[str, int | str]] = [{"id": i, "score": (i * 7919) % 1000, "name": f"user{i}"} for i in range(rows)]
    table.sort(key=lambda r: int(r["score"]))
    return json.dumps(table)


def parse_records(blob: str) -> int:
    return sum(1 for rec in json.loads(blob) if rec["score"] > 500)


def worker(name: str, seed: int) -> None:
    """A worker thread: alternates CPU-heavy work with short waits."""
    rng = random.Random(seed)
    while not STOP.is_set():
        job = rng.random()
        if job < 0.4:
            fib(rng.randint(21, 24))
        elif job < 0.7:
            checksum(name.encode(), rng.randint(20000, 60000))
        else:
            parse_records(render_report(rng.randint(2000, 6000)))
        STOP.wait(rng.uniform(0.002, 0.01))


# ---------------------------------------------------------------- asyncio service
def legacy_lookup(key: str) -> str:
    """A synchronous call that blocks the event loop (the bug the demo shows)."""
    time.sleep(0.12)
    return key.upper()


async def fetch_part(request_id: int, part: int) -> int:
    await asyncio.sleep(random.uniform(0.01, 0.08))
    return len(checksum(f"{request_id}:{part}".encode(), 200))


async def handle_request(request_id: int) -> int:
    parts = [asyncio.create_task(fetch_part(request_id, k), name=f"fetch-{request_id}-{k}") for k in range(3)]
    total = sum(await asyncio.gather(*parts))
    if request_id % 7 == 0:
        legacy_lookup(f"req{request_id}")
    if request_id % 11 == 0:
        raise ValueError(f"request {request_id} failed validation")
    return total


def _report_failure(task: asyncio.Task[int]) -> None:
    if not task.cancelled() and task.exception() is not None:
        print(f"{task.get_name()}: {task.exception()}", file=sys.stderr, flush=True)


async def serve(deadline: float | None) -> None:
    request_id = 0
    pending: set[asyncio.Task[int]] = set()
    while not STOP.is_set() and (deadline is None or time.monotonic() < deadline):
        request_id += 1
        task = asyncio.create_task(handle_request(request_id), name=f"request-{request_id}")
        pending.add(task)
        task.add_done_callback(pending.discard)
        task.add_done_callback(_report_failure)
        if request_id % 13 == 0 and not task.done():
            victim = next(iter(pending))
            victim.cancel()
        if request_id % 25 == 0:
            print(f"served {request_id} requests, {len(pending)} in flight", flush=True)
        render_report(150)  # a little CPU on the loop itself
        await asyncio.sleep(random.uniform(0.02, 0.06))
    for task in list(pending):
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


async def main_async(deadline: float | None) -> None:
    server = asyncio.create_task(serve(deadline), name="server")
    await server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    deadline = None if args.duration is None else time.monotonic() + args.duration
    threads = [
        threading.Thread(target=worker, args=(f"worker-{i}", i), name=f"worker-{i}", daemon=True)
        for i in range(args.workers)
    ]
    for t in threads:
        t.start()
    print(f"demo service started: {args.workers} workers, duration {args.duration or 'until stopped'}", flush=True)
    try:
        asyncio.run(main_async(deadline))
    except KeyboardInterrupt:
        print("demo service interrupted", flush=True)
    finally:
        STOP.set()
        for t in threads:
            t.join(2.0)
    print("demo service stopped", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
