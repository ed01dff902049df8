"""How a session collects when nobody says otherwise: the one table of collection defaults.

The agent starts from it, and the CLI's options, the launch dialog, the live
session and `pyrometer.profile` read it, so a default changed here changes
everywhere. Standard library only (the agent imports it inside the target).
"""

RATE_HZ = 100.0  # stack samples per second
MODE = "sample"  # "sample": stack samples; "trace": every call with yappi
CLOCK = "cpu"  # yappi's clock in trace mode: "cpu" (self times add up per thread) or "wall"
LOOP_INTERVAL_MS = 10.0  # event-loop lag probe interval
BLOCK_THRESHOLD_MS = 50.0  # the loop counts as blocked after this long
# sample the main thread from a SIGALRM timer (main_signal.py): its short bursts of Python are
# seen where they run instead of at the next wait, but the signal is the program's to own: off.
# `--main-signal` (record, run, attach) or the agent option main_signal=True turn it on.
MAIN_SIGNAL = False

COLLECTION = {
    "rate_hz": RATE_HZ,
    "mode": MODE,
    "clock": CLOCK,
    "loop_interval_ms": LOOP_INTERVAL_MS,
    "block_threshold_ms": BLOCK_THRESHOLD_MS,
}

# Task sampling (tasks.py): recording one task in full costs a loop ~1.8 us (a tiny task's own
# life is ~4 us; benchmarks/bench_task_heavy_parts.py), so a loop creating over
# TASK_SAMPLING_RATE tasks a second (recording them all: over ~1.8% of its thread's time) has
# only 1 in TASK_SAMPLE_EVERY of its new tasks recorded in full and the rest counted exactly per
# coroutine; below TASK_SAMPLING_OFF_RATE it records every task again. `every_task=True`
# (`--every-task`) records every task whatever the rate.
TASK_SAMPLING_RATE = 10000.0  # tasks created per second by one loop
TASK_SAMPLING_OFF_RATE = 5000.0
TASK_SAMPLE_EVERY = 100
