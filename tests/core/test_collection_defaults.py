"""Collection defaults live in one table (core/agent/defaults.py); every way to start a session reads it."""

from __future__ import annotations

import inspect

import pytest

from pyrometer.cli import build_parser
from pyrometer.core.agent import defaults
from pyrometer.core.agent.session import DEFAULTS as AGENT_DEFAULTS
from pyrometer.core.capture.inprocess import profile

CLI_OPTION = {"rate_hz": "rate", "mode": "mode", "clock": "clock", "loop_interval_ms": "loop_interval", "block_threshold_ms": "block_threshold"}


def test_the_agent_starts_from_the_table() -> None:
    assert {k: AGENT_DEFAULTS[k] for k in defaults.COLLECTION} == defaults.COLLECTION


@pytest.mark.parametrize("command", ["record", "run", "attach"])
def test_cli_options_default_to_the_table(command: str) -> None:
    args = ["-o", "x.pyro"] if command == "record" else []
    args += ["1"] if command == "attach" else ["--", "x.py"]
    ns = build_parser().parse_args([command, *args])
    assert {key: getattr(ns, CLI_OPTION[key]) for key in defaults.COLLECTION} == defaults.COLLECTION


def test_in_process_api_defaults_to_the_table() -> None:
    params = inspect.signature(profile).parameters
    assert {key: params[CLI_OPTION[key]].default for key in defaults.COLLECTION} == defaults.COLLECTION
