"""``streamlite worker module:app``: run an :class:`~.app.App` in N worker processes.

::

    streamlite worker shop.workers:app --workers 4 --url redis://localhost:6379
    streamlite worker shop.workers:app --reload            # development: restart on edits

The model: one **supervisor** process starts N **worker** processes
(``python -m streamlite.events.runner --child ...``) and keeps N of them running.
Each worker imports ``module:app`` itself, takes the URL given with ``--url`` (else
``$STREAMLITE_URL``, else the app's own; workers also find it in ``$STREAMLITE_URL``, for
apps built by a factory function), a consumer name of its own (``<host>-<supervisor pid>-w<slot>[-<generation>]``)
and runs ``app.serve()``; it tells the supervisor it is consuming by writing one line to
a pipe. The supervisor:

* **SIGTERM / SIGINT**: sends SIGTERM to every worker (each stops gracefully: stops
  reading, finishes or releases what it holds, flushes acks, within the app's
  ``grace_period_s``, or ``--grace``), waits for them (SIGKILL 5 s after the grace
  period), then exits 0;
* **SIGHUP**: a rolling reload: for each slot in turn it starts a new worker (a new
  import of the code), waits until that one consumes, then stops the old one; if the
  new one fails to start, the reload stops there and the old workers keep running;
* **a worker that dies** (a crash, ``kill -9``, an exception that stops its app) is
  started again after a backoff (0.5 s, doubling up to 30 s; back to 0.5 s once a
  worker ran 30 s). A restarted worker keeps its slot's consumer name, so it first
  handles the entries its predecessor left pending;
* **--reload**: watches the source files (``*.py`` under ``--reload-dir``, default the
  working directory; with `watchfiles <https://watchfiles.helpmanual.io>`_ when it is
  installed, else by polling modification times twice a second) and does the rolling
  reload on a change.

Backends: ``redis://``, ``rediss://``, ``unix://`` (Redis or ``streamlite server``),
``redis+cluster://`` (a Redis Cluster) need nothing special. For an embedded directory
(``streamlite:///path``), the supervisor opens the directory first, so it is the owner
(it loads the data, writes the AOF and serves the directory's socket) and the workers
attach to it (see docs/embedded.md): a worker killed or restarted never moves the
data. If another process already owns the directory, the supervisor and the workers
all attach to it. An in-memory ``streamlite://`` cannot be shared by processes and is
refused.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("streamlite.events.runner")

BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 30.0
HEALTHY_AFTER_S = 30.0  # a worker that ran this long resets its slot's backoff
READY_TIMEOUT_S = 60.0


# ------------------------------------------------------------------------ loading
def load_app(spec: str) -> Any:
    """The object named by ``module:attr`` (``attr`` defaults to ``app``; the working
    directory is importable, as with ``python -m``). A callable that is not an App is a
    factory: it is called with no arguments."""
    from .app import App

    mod_name, _, attr = spec.partition(":")
    if not mod_name:
        raise ValueError(f"expected module:app, got {spec!r}")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    mod = importlib.import_module(mod_name)
    obj: Any = mod
    for part in (attr or "app").split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ValueError(f"module {mod_name!r} has no attribute {attr or 'app'!r}") from None
    if not isinstance(obj, App) and callable(obj):
        obj = obj()
    if not isinstance(obj, App):
        raise ValueError(f"{spec} is a {type(obj).__name__}, not a streamlite.events.App")
    return obj


def check_url(url: str | None) -> None:
    if url is None:
        raise ValueError("the app has no URL (App(client=...)): give --url")
    if url.startswith("streamlite:"):
        from streamlite.embedded import parse_url

        path, _ = parse_url(url)
        if not path:
            raise ValueError("an in-memory streamlite:// engine cannot be shared by worker "
                             "processes: use a directory, streamlite:///path")


# ------------------------------------------------------------------------ worker side
def _watch_parent(ppid: int, stop: Callable[[], None]) -> None:
    """A worker whose supervisor is gone (killed with -9) stops on its own."""
    while True:
        time.sleep(1.0)
        if os.getppid() != ppid:
            log.warning("supervisor %d is gone: stopping", ppid)
            stop()
            return


def child_main(spec: str, url: str | None, name: str, ready_fd: int | None,
               grace_s: float | None = None) -> int:
    """A worker process: import the app, run it until SIGTERM/SIGINT."""
    import asyncio

    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # the supervisor's business, not ours
    app = load_app(spec)
    if grace_s is not None:
        app.grace_period_s = grace_s
    if url and app._client is None:  # (an app built with a client: its factory read
        app.url = url                  # the URL from $STREAMLITE_URL, see Supervisor)
    if app._client is None:
        check_url(app.url)
    app.consumer_name = name
    loop_box: dict[str, Any] = {}

    def ready() -> None:
        loop_box["loop"] = asyncio.get_running_loop()
        if ready_fd is not None:
            os.write(ready_fd, f"ready {os.getpid()} {name} {app.grace_period_s}\n".encode())
            os.close(ready_fd)

    app.after_startup(ready)

    def stop() -> None:
        loop = loop_box.get("loop")
        if loop is not None:
            loop.call_soon_threadsafe(app.request_stop)
        else:
            os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=_watch_parent, args=(os.getppid(), stop), daemon=True,
                     name="watch-supervisor").start()
    app.run()
    return 0


# ------------------------------------------------------------------------ supervisor
@dataclass
class Slot:
    """One of the N places a worker runs in."""

    index: int
    proc: subprocess.Popen[bytes] | None = None
    ready_r: int | None = None    # read end of the started worker's ready pipe
    ready: bool = False
    started_at: float = 0.0
    generation: int = 0
    backoff_s: float = BACKOFF_FIRST_S
    restart_at: float | None = None  # when a crashed worker is started again
    restarts: int = 0
    pids: list[int] = field(default_factory=list)


class Supervisor:
    """Keeps ``workers`` worker processes of ``spec`` running (see the module doc)."""

    def __init__(self, spec: str, *, workers: int = 1, url: str | None = None,
                 reload: bool = False, reload_dirs: Iterable[str] = (),
                 kill_after_s: float = 5.0, grace_s: float | None = None,
                 log_level: str | None = None) -> None:
        if workers < 1:
            raise ValueError("--workers must be at least 1")
        self.spec = spec
        self.n = workers
        self.url = url
        self.reload = reload
        self.reload_dirs = [os.path.abspath(d) for d in reload_dirs] or [os.getcwd()]
        self.kill_after_s = kill_after_s
        self.grace_s = grace_s
        self.log_level = log_level
        self.slots = [Slot(i) for i in range(workers)]
        self.host = socket.gethostname().split(".")[0] or "host"
        self._stop = False
        self._reload = False
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        os.set_blocking(self._wake_r, False)
        self._owner: Any = None  # the embedded directory, held while running
        self._grace: dict[int, float] = {}  # worker pid -> its App's grace_period_s

    # -- signals (they only set flags and wake the loop)
    def _signal(self, sig: int, _frame: Any) -> None:
        if sig == signal.SIGHUP:
            self._reload = True
        else:
            self._stop = True
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass

    def request_reload(self) -> None:
        self._signal(signal.SIGHUP, None)

    def _name(self, slot: Slot) -> str:
        base = f"{self.host}-{os.getpid()}-w{slot.index}"
        return base if slot.generation == 0 else f"{base}-{slot.generation}"

    # -- processes
    def _spawn(self, slot: Slot) -> None:
        r, w = os.pipe()
        cmd = [sys.executable, "-m", "streamlite.events.runner", "--child", self.spec,
               "--name", self._name(slot), "--ready-fd", str(w)]
        if self.url:
            cmd += ["--url", self.url]
        if self.log_level:
            cmd += ["--log-level", self.log_level]
        if self.grace_s is not None:
            cmd += ["--grace", str(self.grace_s)]
        env = dict(os.environ)
        if self.url:
            from streamlite.urls import ENV_URL

            env[ENV_URL] = self.url
        env.setdefault("PYTHONPATH", "")
        cwd = os.getcwd()
        if cwd not in env["PYTHONPATH"].split(os.pathsep):
            env["PYTHONPATH"] = cwd + (os.pathsep + env["PYTHONPATH"] if env["PYTHONPATH"]
                                       else "")
        slot.proc = subprocess.Popen(cmd, pass_fds=(w,), env=env)
        os.close(w)
        slot.ready_r, slot.ready = r, False
        slot.started_at = time.monotonic()
        slot.restart_at = None
        slot.pids.append(slot.proc.pid)
        log.info("worker %d started (pid %d, consumer %s)", slot.index, slot.proc.pid,
                 self._name(slot))

    def _poll_ready(self, slot: Slot, timeout: float = 0.0) -> bool:
        """Whether the slot's worker said it consumes (reads its pipe)."""
        if slot.ready or slot.ready_r is None:
            return slot.ready
        rl, _, _ = select.select([slot.ready_r], [], [], timeout)
        if rl:
            data = os.read(slot.ready_r, 256)
            os.close(slot.ready_r)
            slot.ready_r = None
            slot.ready = data.startswith(b"ready")
            parts = data.split()
            if slot.ready and len(parts) >= 4 and slot.proc is not None:
                try:  # the worker's grace period: how long its stop may take
                    self._grace[slot.proc.pid] = float(parts[3])
                except ValueError:
                    pass
        return slot.ready

    def _close_pipe(self, slot: Slot) -> None:
        if slot.ready_r is not None:
            os.close(slot.ready_r)
            slot.ready_r = None

    def _terminate(self, procs: list[subprocess.Popen[bytes]]) -> None:
        """SIGTERM, wait for the graceful stop, SIGKILL what is left."""
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        grace = self.grace_s if self.grace_s is not None else max(
            [self._grace.get(p.pid, 30.0) for p in procs] or [30.0])
        limit = grace + self.kill_after_s
        deadline = time.monotonic() + limit
        for p in procs:
            try:
                p.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("worker pid %d did not stop in %.0fs: killed", p.pid, limit)
                p.kill()
                p.wait()

    def _wait_ready(self, slot: Slot) -> bool:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline and not self._stop:
            if self._poll_ready(slot, 0.1):
                return True
            assert slot.proc is not None
            if slot.proc.poll() is not None:
                return self._poll_ready(slot, 0.0)
        return False

    def _rolling_reload(self) -> None:
        """Each slot in turn: a new worker; once it consumes, the old one stops."""
        log.info("reloading %d workers one by one", self.n)
        for slot in self.slots:
            if self._stop:
                return
            old, old_pipe, old_ready, old_started = (slot.proc, slot.ready_r, slot.ready,
                                                      slot.started_at)
            slot.ready_r = None
            slot.generation += 1
            self._spawn(slot)
            if not self._wait_ready(slot):
                new = slot.proc
                assert new is not None
                if not self._stop:
                    log.error("reload: the new worker %d did not start (exit code %s); "
                              "keeping the running workers", slot.index, new.poll())
                self._terminate([new])
                self._close_pipe(slot)
                slot.proc, slot.ready_r, slot.ready = old, old_pipe, old_ready
                slot.started_at = old_started
                slot.generation -= 1
                return
            if old_pipe is not None:
                os.close(old_pipe)
            if old is not None:
                self._terminate([old])
        log.info("reload done")

    def _check_children(self) -> None:
        if self._stop:  # (a Ctrl-C reaches the workers too: their exit is no crash)
            return
        now = time.monotonic()
        for slot in self.slots:
            p = slot.proc
            if p is None:
                if slot.restart_at is not None and now >= slot.restart_at:
                    self._spawn(slot)
                continue
            self._poll_ready(slot)
            code = p.poll()
            if code is None:
                if now - slot.started_at >= HEALTHY_AFTER_S:
                    slot.backoff_s = BACKOFF_FIRST_S
                continue
            self._close_pipe(slot)
            ran = now - slot.started_at
            if ran >= HEALTHY_AFTER_S:
                slot.backoff_s = BACKOFF_FIRST_S
            log.error("worker %d (pid %d) exited with code %s after %.1fs: restarting in "
                      "%.1fs", slot.index, p.pid, code, ran, slot.backoff_s)
            slot.proc = None
            slot.restarts += 1
            slot.restart_at = now + slot.backoff_s
            slot.backoff_s = min(slot.backoff_s * 2, BACKOFF_MAX_S)

    # -- source watching
    def _start_watcher(self) -> None:
        try:
            import watchfiles
        except ImportError:
            watchfiles = None

        def on_change(what: str) -> None:
            log.info("%s changed: reloading", what)
            self.request_reload()

        if watchfiles is not None:
            def watch_with_watchfiles() -> None:
                for changes in watchfiles.watch(*self.reload_dirs,
                                                watch_filter=watchfiles.PythonFilter()):
                    if self._stop:
                        return
                    on_change(", ".join(sorted({os.path.relpath(p) for _, p in changes})))

            target: Callable[[], None] = watch_with_watchfiles
        else:
            def poll_mtimes() -> None:
                seen = source_mtimes(self.reload_dirs)
                while not self._stop:
                    time.sleep(0.5)
                    now = source_mtimes(self.reload_dirs)
                    if now != seen:
                        changed = {p for p in set(now) | set(seen) if now.get(p) != seen.get(p)}
                        seen = now
                        on_change(", ".join(sorted(os.path.relpath(p) for p in changed)))

            target = poll_mtimes
        threading.Thread(target=target, daemon=True, name="reload-watcher").start()
        log.info("watching %s for changes (%s)", ", ".join(self.reload_dirs),
                 "watchfiles" if watchfiles is not None else "polling")

    # -- main loop
    def _open_embedded(self, url: str) -> None:
        import streamlite

        self._owner = streamlite.from_url(url)
        self._owner.ping()
        from streamlite.embedded import is_attached

        log.info("%s: %s", url, "attached to its owner" if is_attached(self._owner)
                 else "opened by the supervisor; workers attach to it")

    def run(self) -> int:
        from streamlite.urls import ENV_URL

        url = self.url or os.environ.get(ENV_URL) or None
        if url is None:
            url = load_app(self.spec).url  # the app's own URL (a check it imports, too)
        check_url(url)
        assert url is not None
        self.url = url  # every worker gets it (--url, and $STREAMLITE_URL for factories)
        if url.startswith("streamlite:"):
            self._open_embedded(url)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._signal)
        if self.reload:
            self._start_watcher()
        log.info("supervisor pid %d: %d worker(s) of %s on %s", os.getpid(), self.n,
                 self.spec, url)
        for slot in self.slots:
            self._spawn(slot)
        try:
            while not self._stop:
                if self._reload:
                    self._reload = False
                    self._rolling_reload()
                    continue
                self._check_children()
                rl, _, _ = select.select([self._wake_r], [], [], 0.2)
                if rl:
                    os.read(self._wake_r, 4096)
        finally:
            log.info("stopping %d worker(s)", sum(1 for s in self.slots if s.proc))
            self._terminate([s.proc for s in self.slots if s.proc is not None])
            for s in self.slots:
                self._close_pipe(s)
            if self._owner is not None:
                self._owner.close()
            log.info("supervisor stopped")
        return 0


def source_mtimes(dirs: Iterable[str]) -> dict[str, float]:
    """Modification times of the ``*.py`` files under ``dirs`` (hidden directories,
    virtualenvs and caches skipped)."""
    out: dict[str, float] = {}
    skip = {"__pycache__", "node_modules", "site-packages"}
    for d in dirs:
        for root, subdirs, files in os.walk(d):
            subdirs[:] = [s for s in subdirs if not s.startswith(".") and s not in skip]
            for f in files:
                if f.endswith(".py"):
                    p = os.path.join(root, f)
                    try:
                        out[p] = os.stat(p).st_mtime_ns
                    except OSError:
                        pass
    return out


# ------------------------------------------------------------------------ command line
def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("app", help="module:attribute of the App (attribute default: app)")
    p.add_argument("--workers", "-w", type=int, default=1, help="worker processes (1)")
    p.add_argument("--url", default=None,
                   help="where the streams are (default: $STREAMLITE_URL, else the App's "
                        "own URL)")
    p.add_argument("--reload", action="store_true",
                   help="restart the workers when a source file changes (development)")
    p.add_argument("--reload-dir", action="append", default=[], metavar="DIR",
                   help="directory to watch with --reload (repeatable; default: cwd)")
    p.add_argument("--grace", type=float, default=None,
                   help="seconds a stopping worker gets to finish its work (default: the "
                        "App's grace_period_s); SIGKILL 5 s after that")
    p.add_argument("--kill-after", type=float, default=5.0, help=argparse.SUPPRESS)
    p.add_argument("--log-level", default=None, help="INFO, DEBUG, ... (workers too)")


def _setup_logging(level: str | None) -> None:
    from .metrics import configure_logging

    configure_logging((level or "INFO").upper(), False)
    ev = logging.getLogger("streamlite.events")
    for name in ("streamlite.embedded",):
        logging.getLogger(name).handlers[:] = list(ev.handlers)
        logging.getLogger(name).setLevel(ev.level)


def cmd_worker(args: argparse.Namespace) -> int:
    _setup_logging(args.log_level)
    try:
        sup = Supervisor(args.app, workers=args.workers, url=args.url, reload=args.reload,
                         reload_dirs=args.reload_dir, grace_s=args.grace,
                         kill_after_s=args.kill_after, log_level=args.log_level)
        return sup.run()
    except Exception as e:  # the app cannot be loaded (ImportError, SyntaxError...)
        print(f"streamlite worker: {type(e).__name__}: {e}", file=sys.stderr)
        return 2


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "worker", help="run an App's handlers in N worker processes",
        description="Run module:app in N worker processes: graceful stop on SIGTERM/SIGINT, "
                    "rolling reload on SIGHUP, crashed workers restarted with backoff, "
                    "--reload on source changes.")
    add_arguments(p)
    p.set_defaults(func=cmd_worker)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m streamlite.events.runner")
    ap.add_argument("--child", metavar="SPEC", help=argparse.SUPPRESS)
    ap.add_argument("--name", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--ready-fd", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--url", default=None)
    ap.add_argument("--log-level", default=None)
    ap.add_argument("--grace", type=float, default=None)
    a, rest = ap.parse_known_args(argv)
    if a.child:
        _setup_logging(a.log_level)
        from .app import unique_consumer_name

        return child_main(a.child, a.url, a.name or unique_consumer_name(), a.ready_fd,
                          a.grace)
    p = argparse.ArgumentParser(prog="streamlite worker")
    add_arguments(p)
    return cmd_worker(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
