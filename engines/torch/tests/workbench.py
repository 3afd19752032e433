"""Runs the workbench's built CLI (`node out/main/cli.js`), the TypeScript engine's side of the parity tests.

`npm test` builds out/ before it runs pytest; run `npx electron-vite build` first when running pytest by hand.
"""
import json
import os
import shutil
import subprocess

from conftest import REPO

CLI = os.path.join(REPO, "out", "main", "cli.js")


def node() -> str:
    exe = os.environ.get("ALPHANET_NODE") or shutil.which("node")
    assert exe, "node is not on PATH: the parity tests run the workbench's CLI (set ALPHANET_NODE)"
    assert os.path.exists(CLI), f"{CLI} is missing: build the workbench first (npx electron-vite build)"
    return exe


def run_cli(*args, env=None) -> subprocess.CompletedProcess:
    """Runs `alphanet <args>` (WASM backend unless `env` says otherwise); the finished process, whatever its exit."""
    e = dict(os.environ)
    e.setdefault("ALPHANET_BACKEND", "wasm")
    e.update(env or {})
    return subprocess.run([node(), CLI, *args], capture_output=True, text=True, env=e, timeout=600)


def cli(*args, env=None):
    """Runs `alphanet <args>` and returns its stdout parsed as JSON; a failure shows its stderr."""
    r = run_cli(*args, env=env)
    assert r.returncode == 0, f"alphanet {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()}"
    return json.loads(r.stdout)
