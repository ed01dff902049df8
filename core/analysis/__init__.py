"""Pure analyses over a Profile (no Qt, no I/O): one module per question.

selection (which samples), calltree/flame/functions/callers (where the time
went), spans (what a thread did when), loop (event-loop lag and blocking),
tasks (asyncio task tree at t), diff (two profiles), transforms (reshape
stacks first), classify (whose code a file is).
"""
