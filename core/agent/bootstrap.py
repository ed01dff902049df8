"""Start the agent inside a target interpreter, then run the user's program (stdlib only, 3.9+).

Launch: ``python bootstrap.py SCRIPT [ARGS]`` / ``-m MODULE [ARGS]`` / ``-c CODE [ARGS]``
with the connection info in the ``PYROMETER_AGENT`` environment variable
(removed before user code runs). The target's interpreter need not have
Pyrometer installed: the agent folder is loaded as a private package
(``_pyrometer_agent``) from this file's directory, and this directory never
stays on ``sys.path``.

Attach: the injected snippet loads this file as a module and calls
`attach(config)`, which starts the agent on a thread and returns at once.

This file stays small: the interpreter compiles its main script on every
start (no bytecode cache), so the work lives in ``entry.py``.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import types

TYPE_CHECKING = False  # typing stays unimported in the target (start-up cost); mypy knows the name
if TYPE_CHECKING:
    from typing import Any, Dict

ENV_VAR = "PYROMETER_AGENT"
PACKAGE = "_pyrometer_agent"
AGENT_DIR = os.path.dirname(os.path.abspath(__file__))


def load_agent() -> types.ModuleType:
    """Import the agent folder as the private package ``_pyrometer_agent`` (once per process)."""
    pkg = sys.modules.get(PACKAGE)
    if pkg is not None and list(getattr(pkg, "__path__", [])) == [AGENT_DIR]:
        return pkg
    spec = importlib.util.spec_from_file_location(
        PACKAGE, os.path.join(AGENT_DIR, "__init__.py"), submodule_search_locations=[AGENT_DIR]
    )
    if spec is None or spec.loader is None:
        raise ImportError("cannot load the Pyrometer agent from %s" % AGENT_DIR)
    pkg = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = pkg
    try:
        spec.loader.exec_module(pkg)
    except BaseException:
        sys.modules.pop(PACKAGE, None)
        raise
    return pkg


def _entry() -> Any:
    load_agent()
    return importlib.import_module(PACKAGE + ".entry")


def attach(config: Dict[str, Any]) -> None:
    """Entry point of the injected snippet: start the agent on a thread, return at once."""
    _entry().attach(config)


def main() -> None:
    """Launch mode (see entry.main)."""
    outer: list = [main]
    # below us: our module code, and in a frozen app the bundle's entry script that
    # ran us as Python; all of it is launcher plumbing, never the user's program
    caller: Any = sys._getframe(1)
    while caller is not None:
        outer.append(types.SimpleNamespace(__code__=caller.f_code))
        caller = caller.f_back
    _entry().main(outer)


if __name__ == "__main__":
    main()
