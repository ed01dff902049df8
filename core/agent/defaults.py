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
# An agent option only (like switch_interval_ms), not in COLLECTION: no CLI flag yet
MAIN_SIGNAL = False

COLLECTION = {
    "rate_hz": RATE_HZ,
    "mode": MODE,
    "clock": CLOCK,
    "loop_interval_ms": LOOP_INTERVAL_MS,
    "block_threshold_ms": BLOCK_THRESHOLD_MS,
}
