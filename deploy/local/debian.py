"""Debian's packages that the local tooling and the tests run (nginx, Prometheus, Chromium), installed
with apt-get where they are missing: as root only (as on CI), and one apt-get at a time across the
processes of a run (two test workers installing at once fail on apt's lock)."""

import fcntl
import os
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

LOCK = Path(tempfile.gettempdir()) / "c4ang-apt.lock"


def installed(packages: list[str], *, found: Callable[[], str | None], what: str, recommends: bool = False) -> str:
    """What `found` returns (a binary's path), after installing `packages` where it returns nothing;
    `what` names the missing thing in the error."""
    if path := found():
        return path
    if os.geteuid() != 0:
        raise RuntimeError(f"{what} is missing: install it with `sudo apt-get install {' '.join(packages)}`")
    options = [] if recommends else ["--no-install-recommends"]
    with LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        # Another process may have installed it while this one waited for the lock.
        if not (path := found()):
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
            subprocess.run(["apt-get", "install", "-y", "-qq", *options, *packages], check=True, env=env)
            path = found()
    if not path:
        raise RuntimeError(f"apt-get installed {' '.join(packages)} but {what} was not found")
    return path
