"""Real processes on one data directory, for the tests of ownership, attaching and takeover."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Sequence

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def child(mode: str, path: str, *args: str, stderr: int | None = subprocess.PIPE,
          env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """``python -m tests.shared.child MODE PATH ARGS...`` with line-buffered text pipes."""
    return subprocess.Popen([sys.executable, "-m", "tests.shared.child", mode, path, *args],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True,
                            env=env)


def wait_line(p: subprocess.Popen[str], want: str) -> None:
    """Read ``p``'s stdout until the line ``want`` (fails if ``p`` exits first)."""
    assert p.stdout is not None
    while True:
        line = p.stdout.readline()
        if not line:
            err = p.stderr.read() if p.stderr is not None else ""
            raise AssertionError(f"child exited ({p.wait()}) before {want!r}: {err}")
        if line.strip() == want:
            return


def streamlite_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "streamlite", *args]


def run(args: Sequence[str], timeout: float = 60, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=kw.pop("cwd", ROOT), capture_output=True, text=True,
                          timeout=timeout, **kw)  # type: ignore[call-overload]


def snapshot(path: str) -> dict[str, tuple[int, int, str]]:
    """Every file under ``path``: (size, mtime_ns, sha256) by relative name."""
    out = {}
    for dirpath, _, names in os.walk(path):
        for n in names:
            full = os.path.join(dirpath, n)
            st = os.lstat(full)
            digest = ""
            if os.path.isfile(full) and not os.path.islink(full):
                with open(full, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
            out[os.path.relpath(full, path)] = (st.st_size, st.st_mtime_ns, digest)
    return out


def kill(p: subprocess.Popen[str]) -> None:
    if p.poll() is None:
        p.kill()
    p.wait(30)
