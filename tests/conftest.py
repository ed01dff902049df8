"""Test configuration shared by tests/core and tests/app."""

from __future__ import annotations

import os
import signal
import tempfile

import pytest
from hypothesis import HealthCheck, settings

# `pytest ... &` in a script (job control off) starts with SIGINT and SIGQUIT ignored, and an
# ignored signal is inherited by every process a test starts: `record` then never saw the Ctrl-C
# that detaches it, nor its target the SIGQUIT it forwards, and those tests timed out ("under
# load", when the load was made by running suites in the background). Tests start from defaults.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
if signal.getsignal(signal.SIGQUIT) == signal.SIG_IGN:
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)


def _compile_once() -> None:
    """Let the suite's ~300 Python processes load compiled modules instead of each compiling them.

    Container images often set PYTHONDONTWRITEBYTECODE=1; on a fresh checkout every
    `pyrometer record`, every target with the agent and every app start-up then
    compiled the package again (~0.1 s each, ~0.3 s for the app), and each worker
    re-rewrote every test module's asserts (~5 s of CPU). Bytecode is written
    under the checkout's ignored __pycache__ folders; no test depends on it.
    """
    import compileall
    import importlib.util
    import sys

    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.dont_write_bytecode = False
    for name in ("pyrometer", "pyrometer.core", "pyrometer.app"):
        spec = importlib.util.find_spec(name)
        for folder in (spec.submodule_search_locations or []) if spec else []:
            compileall.compile_dir(folder, quiet=2)


_compile_once()

# GUI tests run headless; set before anything imports Qt.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# No test may read or write the user's real settings (layout, recent files, theme):
# QSettings and every launched `pyrometer` process look under this folder instead.
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="pyrometer-test-config-")

# Hypothesis runs the same examples on every run (a suite that is green every time):
# derandomized, no example database, no deadline (a loaded 2-core machine is slow).
# A failure found while exploring is pinned with @example beside its test.
# `PYROMETER_HYPOTHESIS=explore` searches afresh with more examples (not in CI).
settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=100,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("explore", deadline=None, max_examples=1000, print_blob=True)
settings.load_profile(os.environ.get("PYROMETER_HYPOTHESIS", "ci"))

# No test may touch the user's run history either: every test (and every `pyrometer` it launches,
# which inherits the environment) gets a history of its own under its tmp_path.
os.environ["PYROMETER_HOME"] = tempfile.mkdtemp(prefix="pyrometer-test-home-")


@pytest.fixture(autouse=True)
def _private_history(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYROMETER_HOME", str(tmp_path_factory.mktemp("pyrometer-home")))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Start the slow tests first (a stable sort: files keep their order otherwise).

    pytest-xdist hands tests out in collection order; a 15 s test collected last
    (mypy, in tests/test_lint.py) ran alone at the end while the other worker idled.
    """
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
