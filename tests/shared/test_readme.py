"""The README's examples, run in the order they are written, in a fresh directory:
``make run`` (its app owns ``./data``), then the embedded example (it attaches), the
server example (on its own directory; ``--dir ./data`` is refused as the README says),
``redis-cli -s data/streamlite.sock``, the framework example and the CLI line."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time

import pytest

from tests.apps.support import AppProc, env
from tests.support.redis_proc import free_port, wait_loaded, wait_port

from .procs import ROOT

pytestmark = pytest.mark.skipif(shutil.which("redis-cli") is None, reason="no redis-cli")


def blocks(lang: str) -> list[str]:
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    return re.findall(rf"```{lang}\n(.*?)```", text, re.S)


def shell(line: str, port: int) -> list[str]:
    """A README shell line as this test runs it: this interpreter's streamlite, the
    server on a free port (redis-cli pointed at it)."""
    line = line.split("#", 1)[0].strip()
    args = shlex.split(line)
    if args[0] == ".venv/bin/streamlite":
        args = [sys.executable, "-m", "streamlite", *args[1:]]
    if "--port" in args:
        args[args.index("--port") + 1] = str(port)
    if args[0] == "redis-cli" and "-p" in args:
        args[args.index("-p") + 1] = str(port)
    elif args[0] == "redis-cli" and "-s" not in args:
        args[1:1] = ["-p", str(port)]
    return args


def test_readme_examples_in_order(tmp_path):
    cwd = str(tmp_path)
    py_embedded, py_framework = blocks("python")[:2]
    sh_quick, sh_server, sh_redis_cli, sh_cli = blocks("sh")[:4]
    assert "make run" in sh_quick
    run = dict(cwd=cwd, env=env(), capture_output=True, text=True, timeout=120)
    # make run: `streamlite run` on ./data (the HTTP port left free for other tests)
    app = AppProc("streamlite:///./data", ["--port", "0", "--demo", "0"], cwd=cwd).start()
    server = None
    fw: subprocess.Popen[str] | None = None
    try:
        res = subprocess.run([sys.executable, "-c", py_embedded], **run)  # type: ignore[call-overload]
        assert res.returncode == 0, res.stderr
        assert "orders" in res.stdout
        # the server example, on its own directory
        port = free_port()
        (start,) = [ln for ln in sh_server.splitlines() if ln.strip()]
        (cli,) = [ln for ln in sh_redis_cli.splitlines() if ln.strip()]
        server = subprocess.Popen(shell(start, port), cwd=cwd, env=env(),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(port, proc=server)
        wait_loaded(port)
        res = subprocess.run(shell(cli, port), **run)  # type: ignore[call-overload]
        assert res.returncode == 0 and re.fullmatch(r"\d+-\d+\n", res.stdout), res
        # what the README says of --dir ./data while make run holds it
        refused = shell(start, free_port())
        refused[refused.index("--dir") + 1] = "./data"
        res = subprocess.run(refused, **run)  # type: ignore[call-overload]
        assert res.returncode == 1 and f"in use by process {app.proc.pid}" in res.stderr
        assert "streamlite.sock" in res.stderr
        # ... and its socket
        res = subprocess.run(["redis-cli", "-s", "data/streamlite.sock", "XLEN", "orders"],
                             **run)  # type: ignore[call-overload]
        assert res.stdout.strip() == "1", res
        # the framework example runs (attached) until Ctrl-C
        fw = subprocess.Popen([sys.executable, "-c", py_framework], cwd=cwd, env=env(),
                              stderr=subprocess.PIPE, text=True)
        # until its consumer reads beside the embedded example's worker-1 (the machine
        # may be slow to start it)
        deadline = time.monotonic() + 60
        while True:
            assert fw.poll() is None, fw.communicate()[1]
            res = subprocess.run(["redis-cli", "-s", "data/streamlite.sock", "XINFO",
                                  "CONSUMERS", "orders", "billing"], **run)  # type: ignore[call-overload]
            if res.stdout.splitlines().count("name") > 1 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        fw.send_signal(signal.SIGINT)
        _, err = fw.communicate(timeout=60)
        assert fw.returncode == 0, err
        # the CLI line
        (line,) = [ln for ln in sh_cli.splitlines() if ln.strip()]
        res = subprocess.run(shell(line, port), **run)  # type: ignore[call-overload]
        assert res.returncode == 0 and "app-0" in res.stdout, res  # make run's consumers
    finally:
        if fw is not None and fw.poll() is None:  # a failed step never leaves it running
            fw.kill()
            fw.wait(30)
        if server is not None:
            server.terminate()
            server.wait(30)
        assert app.stop() == 0
