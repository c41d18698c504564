"""``countysim viz``: check the base scenario, then serve the live page (``experiments/viz/app.py``).

The page is a Solara app run by Solara's own server in a child process; the base
scenario travels to it in environment variables (see :mod:`experiments.viz.app`). A bad scenario or
override is reported here, with exit status 2, before any server starts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sim.errors import InputError


def solara_command(host: str, port: int, open_browser: bool = False) -> list[str]:
    """The command that serves ``experiments.viz.app`` (production mode: no file watching, no reloads)."""
    return [
        sys.executable,
        "-m",
        "solara",
        "run",
        "experiments.viz.app",
        "--host",
        host,
        "--port",
        str(port),
        "--production",
        "--open" if open_browser else "--no-open",
    ]


def viz_environment(scenario: str | None, overrides: list[str]) -> dict[str, str]:
    """The environment of the server: the base scenario for the page, validated now.

    Raises:
        InputError: The scenario file or an override is invalid.
    """
    # the page module imports solara and Mesa's page (~1 s): loaded when serving, not by every countysim command
    from experiments.viz.app import ENV_OVERRIDES, ENV_SCENARIO, base_data, scenario_for

    scenario_for(base_data(scenario, list(overrides)))  # names the file and field of a bad base
    env = dict(os.environ)
    env.pop(ENV_SCENARIO, None)
    if scenario is not None:
        env[ENV_SCENARIO] = str(Path(scenario).resolve())
    env[ENV_OVERRIDES] = json.dumps(list(overrides))
    env.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "false")  # no calls home from a researcher's machine
    return env


def serve(scenario: str | None, overrides: list[str], host: str, port: int, open_browser: bool = False) -> int:
    """Serve the page until interrupted; returns the server's exit status."""
    if not 0 <= port <= 65535:
        raise InputError(f"--port must be between 0 and 65535 (got {port})", source="command line", location="--port")
    env = viz_environment(scenario, overrides)
    print(f"countysim viz: serving the live county page on http://{host}:{port or '<free port>'} (Ctrl-C stops it)")
    try:
        return subprocess.call(solara_command(host, port, open_browser), env=env)
    except KeyboardInterrupt:
        return 0
