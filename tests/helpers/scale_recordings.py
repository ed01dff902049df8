"""Small recordings made the way benchmarks/bench_scale.py makes its huge ones (the agent's wire
encoders and RecordingWriter: frames of ~300 samples, 4 threads, lag, tasks, blocking, an index)."""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def bench_scale() -> types.ModuleType:
    """benchmarks/bench_scale.py as a module (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("bench_scale", ROOT / "benchmarks" / "bench_scale.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def generate_recording(path: Path, samples: int) -> Path:
    """A closed recording of that many samples, with its index, at `path`."""
    bench_scale().generate(path, samples, frame_samples=300)
    return path
