"""Persistence for one engine: loading at start, the AOF, snapshots, background jobs.

A front (server or embedded) owns one ``Persistence`` and calls:

- ``load()`` once before serving;
- ``after_writes()`` after executing commands and BEFORE sending their replies:
  it moves the engine's effects into the AOF, writes them and (``appendfsync
  always``) fsyncs, so no client sees a reply for a write that is not in the log.
  A front that batches (group commit) calls ``stage()`` after each client's
  commands and ``commit()`` once before sending the replies of all of them;
- ``tick()`` periodically (about every 100 ms): ``everysec`` fsync, retrying a
  failed AOF write, save points, automatic AOF rewrite, reaping background jobs;
- ``close()`` at shutdown.

Disk errors follow Redis. Under ``appendfsync always`` a failed write or fsync
raises ``AofWriteError`` out of ``after_writes``/``commit``: the replies of that
batch must not be sent (the server exits, as Redis does; embedded callers get the
exception). Under ``everysec``/``no`` the batch stays buffered and is retried on
every ``tick``; meanwhile, and while the last BGSAVE failed with save points set
and ``stop-writes-on-bgsave-error yes``, write commands (and PING) get Redis's
``-MISCONF`` errors (``engine.write_error``).

Background work (BGSAVE, BGREWRITEAOF) forks, as Redis does: the child writes a
point-in-time copy of the dataset while the parent keeps serving. When a rewrite
starts, new writes go to a fresh incremental file, listed in the manifest at
once, so nothing written meanwhile depends on the child; when the child is done
the new base replaces the old base and incremental files in one manifest switch
(temp file, fsync, rename, fsync the directory).
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from ..engine.core import Engine
from ..engine.record import Record
from .aof import (
    AofError,
    AofFile,
    AofWriteError,
    AofWriter,
    Manifest,
    replay,
    write_atomic,
)
from .rdb import is_rdb, load_rdb_file
from .rewrite import base_bytes
from .snapshot import Loaded, SnapshotError, install, load_snapshot, read_snapshot, write_snapshot

LoadError = (AofError, SnapshotError)

RDB_MISCONF = (
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist "
    "to disk. Commands that may modify the data set are disabled, because this instance is "
    "configured to report errors during writes if RDB snapshotting fails "
    "(stop-writes-on-bgsave-error option). Please check the Redis logs for details about the "
    "RDB error."
)
PROGRESS_EVERY_S = 1.0  # a long load logs how far it got this often
ALWAYS_WRITE_FATAL = ("Can't recover from AOF write error when the AOF fsync policy is 'always'. "
                      "Exiting...")


def child_exit(pid: int, block: bool) -> int | None:
    """A forked child's exit code once it has ended (None while it runs; 1 when it was
    reaped elsewhere, as a failure)."""
    try:
        done, status = os.waitpid(pid, 0 if block else os.WNOHANG)
    except ChildProcessError:
        return 1
    return None if done == 0 else os.waitstatus_to_exitcode(status)


class PersistenceConfig(Record):
    """Where and how an engine persists (Redis's config names, ``-`` as ``_``)."""

    _fields = ("dir", "appendonly", "appendfsync", "appendfilename", "appenddirname",
               "dbfilename", "save", "aof_load_truncated", "auto_aof_rewrite_percentage",
               "auto_aof_rewrite_min_size", "aof_use_rdb_preamble",
               "stop_writes_on_bgsave_error", "snapshot_format")

    def __init__(self, dir: str = ".", appendonly: bool = False,
                 appendfsync: str = "everysec", appendfilename: str = "appendonly.aof",
                 appenddirname: str = "appendonlydir", dbfilename: str = "dump.sldb",
                 save: list[tuple[int, int]] | None = None, aof_load_truncated: bool = True,
                 auto_aof_rewrite_percentage: int = 100,
                 auto_aof_rewrite_min_size: int = 64 * 1024 * 1024,
                 aof_use_rdb_preamble: bool = True, stop_writes_on_bgsave_error: bool = True,
                 snapshot_format: str = "auto") -> None:
        self.dir = dir
        self.appendonly = appendonly
        self.appendfsync = appendfsync  # always | everysec | no
        self.appendfilename = appendfilename
        self.appenddirname = appenddirname
        self.dbfilename = dbfilename
        self.save: list[tuple[int, int]] = (
            [(3600, 1), (300, 100), (60, 10000)] if save is None else save)
        self.aof_load_truncated = aof_load_truncated
        self.auto_aof_rewrite_percentage = auto_aof_rewrite_percentage
        self.auto_aof_rewrite_min_size = auto_aof_rewrite_min_size
        self.aof_use_rdb_preamble = aof_use_rdb_preamble
        self.stop_writes_on_bgsave_error = stop_writes_on_bgsave_error
        # snapshot files: "redis" (RDB), "streamlite" (SLSNAP) or "auto" (RDB when
        # dbfilename ends in .rdb); loading reads either (told apart by the magic)
        self.snapshot_format = snapshot_format

    def snapshot_kind(self) -> str:
        fmt = self.snapshot_format
        if fmt == "auto":
            return "redis" if self.dbfilename.lower().endswith(".rdb") else "streamlite"
        return fmt


def _default_log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _exit_with_parent(parent: int) -> None:
    """In a background job's child: end with the parent. An orphaned BGSAVE would rename
    its snapshot over the files of the process that took the directory over (the child
    let go of the directory's lock at fork: ``datadir``)."""
    while True:
        time.sleep(0.05)
        if os.getppid() != parent:
            os._exit(1)


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


class _Child(Record):
    _fields = ("pid", "kind", "started", "dirty", "tmp", "base", "incr", "enabling")

    def __init__(self, pid: int, kind: str, started: float, dirty: int = 0, tmp: str = "",
                 base: AofFile | None = None, incr: AofFile | None = None,
                 enabling: bool = False) -> None:
        self.pid = pid
        self.kind = kind  # "save" | "rewrite"
        self.started = started
        self.dirty = dirty
        self.tmp = tmp  # rewrite: the temp base file the child writes
        self.base = base
        self.incr = incr
        self.enabling = enabling  # CONFIG SET appendonly yes: the AOF exists once this succeeds


class Persistence:
    def __init__(
        self, engine: Engine, config: PersistenceConfig, log: Callable[[str], None] = _default_log
    ) -> None:
        self.engine = engine
        self.cfg = config
        self.log = log
        self.manifest = Manifest()
        self.writer: AofWriter | None = None
        self.lastsave = int(time.time())
        self.last_bgsave_ok = True
        self.last_rewrite_ok = True
        self.aof_write_ok = True
        self.aof_write_error = ""  # strerror of the last failed write/fsync
        self.dirty_at_save = 0
        self.aof_base_size = 0
        self.aof_rewrite_base_size = 0
        self.rdb_saves = 0
        self.aof_rewrites = 0
        self.rewrite_failures = 0  # consecutive
        self.rewrite_not_before = 0.0
        self.last_bgsave_secs = -1
        self.last_rewrite_secs = -1
        self.total_forks = 0
        self.latest_fork_usec = 0  # how long the last os.fork() took the parent
        self.loading_started = 0
        self.loading_total = 0
        self.loading_done = 0
        self.loaded_keys = 0
        self.loaded_expired = 0
        self.loading_time_ms = 0
        self._loading_t0 = 0.0
        self._next_progress = 0.0
        self._child: _Child | None = None
        self._last_fsync = time.monotonic()
        self._pending_rewrite = False
        self._pending_save = False
        # called with every batch of effects ``stage`` takes (replication's stream)
        self.listeners: list[Callable[[list[tuple[int, list[bytes]]]], None]] = []
        os.makedirs(config.dir, exist_ok=True)
        from .backup import Backup

        self.backup = Backup(self)  # BACKUP START ... CLEANUP
        engine.persistence = self
        engine.wrap_units = True  # a command that propagates several goes in MULTI/EXEC

    # -- paths -----------------------------------------------------------------

    @property
    def aof_dir(self) -> str:
        return os.path.join(self.cfg.dir, self.cfg.appenddirname)

    @property
    def manifest_path(self) -> str:
        return os.path.join(self.aof_dir, self.cfg.appendfilename + ".manifest")

    @property
    def snapshot_path(self) -> str:
        return os.path.join(self.cfg.dir, self.cfg.dbfilename)

    def _aof_path(self, name: str) -> str:
        return os.path.join(self.aof_dir, name)

    def _file(self, kind: str, seq: int | None = None) -> AofFile:
        seq = self.manifest.next_seq(kind) if seq is None else seq
        word = "base" if kind == "b" else "incr"
        return AofFile(f"{self.cfg.appendfilename}.{seq}.{word}.aof", seq, kind)

    # -- loading -----------------------------------------------------------------

    def load(self) -> None:
        """Load the AOF (when enabled and present) or else the snapshot, then open the AOF.

        Raises ``AofError``/``SnapshotError`` (naming file and offset) when the
        data cannot be loaded whole; nothing is half-loaded.
        """
        eng = self.engine
        t0 = self._loading_t0 = time.monotonic()
        self._next_progress = t0 + PROGRESS_EVERY_S
        self.loading_started = int(time.time())
        was_loading = eng.loading  # a front may hold the flag for longer (server/app.py)
        eng.loading = True
        # the load makes objects that live (a big stream's nodes: ~50k for 1M entries);
        # the collections their allocation triggers would walk them all (3-4 ms)
        gc_was_on = gc.isenabled()
        gc.disable()
        try:
            if self.cfg.appendonly and os.path.exists(self.manifest_path):
                self._load_aof(eng)
                self._remove_strays()
            elif os.path.exists(self.snapshot_path):
                self.loading_total = os.path.getsize(self.snapshot_path)
                self.log(f"Loading the snapshot {self.snapshot_path} "
                         f"({_mb(self.loading_total)})")
                loaded = load_snapshot(eng, self.snapshot_path)
                self.loading_done = self.loading_total
                self.loaded_keys, self.loaded_expired = loaded.keys, loaded.expired
                self.log(f"DB loaded from disk: {time.monotonic() - t0:.3f} seconds "
                         f"({loaded.keys} keys, {loaded.expired} expired keys skipped)")
            if not self.loaded_keys:
                self.loaded_keys = sum(len(db) for db in eng.dbs)
            self.dirty_at_save = eng.dirty
            if self.cfg.appendonly:  # still "loading" for clients: a base may be written
                self._open_aof()
        finally:
            eng.loading = was_loading
            if gc_was_on:
                gc.enable()
        self.loading_time_ms = int((time.monotonic() - t0) * 1000)

    def _read_manifest(self) -> Manifest:
        with open(self.manifest_path, "rb") as f:
            return Manifest.parse(f.read(), self.manifest_path)

    def _load_aof(self, target: Engine) -> None:
        self.manifest = m = self._read_manifest()
        files = ([m.base] if m.base else []) + m.incrs
        paths = [self._aof_path(af.name) for af in files]
        for af, path in zip(files, paths, strict=True):
            if not os.path.exists(path):
                raise AofError(f"The AOF file {af.name} listed in the manifest "
                               f"{os.path.basename(self.manifest_path)} doesn't exist")
        self.loading_total = sum(os.path.getsize(p) for p in paths)
        self.log(f"Loading the append only file of {self.cfg.dir} ({_mb(self.loading_total)} "
                 f"in {len(paths)} file{'s' if len(paths) != 1 else ''})")
        total = 0
        for i, (af, path) in enumerate(zip(files, paths, strict=True)):
            t0 = time.monotonic()
            last = i == len(files) - 1
            if af.kind == "b" and is_rdb(path):  # an RDB base (Redis's preamble; BACKUP's)
                install(target, load_rdb_file(target, path))
                self._progress(os.path.getsize(path))
            else:
                total += replay(
                    target, path, allow_truncated=last and self.cfg.aof_load_truncated,
                    log=self.log, progress=self._progress,
                )
            kind = "base" if af.kind == "b" else "incr"
            self.log(f"DB loaded from {kind} file {af.name}: {time.monotonic() - t0:.3f} seconds")
        self.loading_done = self.loading_total
        self.aof_base_size = os.path.getsize(paths[0]) if m.base else 0
        self.aof_rewrite_base_size = self.aof_base_size
        keys = sum(len(db) for db in target.dbs)
        self.log(f"DB loaded from append only file: {total} commands, {keys} keys, "
                 f"{time.monotonic() - self._loading_t0:.3f} seconds")

    def _progress(self, n: int) -> None:
        self.loading_done += n
        now = time.monotonic()
        if now >= self._next_progress:  # a long load says how far it got, once a second
            self._next_progress = now + PROGRESS_EVERY_S
            keys = sum(len(db) for db in self.engine.dbs)
            pct = 100 * self.loading_done / self.loading_total if self.loading_total else 100
            self.log(f"Loading: {pct:.0f}% ({_mb(self.loading_done)} of "
                     f"{_mb(self.loading_total)}), {keys} keys, "
                     f"{now - self._loading_t0:.1f} s elapsed")

    def _remove_strays(self) -> None:
        """Files in the AOF directory no manifest names (a crashed rewrite's leftovers)."""
        keep = {f.name for f in self.manifest.files if f.kind in ("b", "i")}
        prefix = self.cfg.appendfilename + "."
        for name in os.listdir(self.aof_dir):
            if name in keep or name.endswith(".manifest"):
                continue
            if name.startswith("temp-") or name.startswith(prefix):
                with contextlib.suppress(OSError):
                    os.unlink(self._aof_path(name))

    def _open_aof(self) -> None:
        """Open the last incremental file for appending, creating the AOF if needed."""
        os.makedirs(self.aof_dir, exist_ok=True)
        self.engine.effects = []
        if not self.manifest.files and os.path.exists(self.manifest_path):
            self.manifest = self._read_manifest()
        if not self.manifest.base and not self.manifest.incrs:
            # a new AOF: its base is the current dataset (what was loaded, or nothing)
            self.log(f"Creating AOF base file {self._file('b').name} on server start")
            self._rewrite_foreground()
            return
        incrs = self.manifest.incrs
        if incrs:
            self.writer = AofWriter(self._aof_path(incrs[-1].name), self.cfg.appendfsync)
            return
        # the file first, then the manifest that names it (as Redis's
        # openNewIncrAofForAppend): a kill between the two leaves a stray file, never a
        # manifest naming a file that does not exist (which would refuse to load)
        af = self._file("i")
        self.writer = AofWriter(self._aof_path(af.name), self.cfg.appendfsync)
        self.manifest.files.append(af)
        write_atomic(self.manifest_path, self.manifest.dump())

    # -- the write path ----------------------------------------------------------

    def stage(self) -> bool:
        """Move the engine's effects into the AOF buffer (and to the listeners); True if
        something is pending for the AOF."""
        w = self.writer
        eff = self.engine.take_effects()  # not a busy script's, until it ends
        if eff:
            for fn in self.listeners:
                fn(eff)
            if w is not None:
                w.feed(eff)
        return w is not None and bool(w._buf)

    def commit(self) -> None:
        """Write the buffer (and fsync under ``always``) before replies are sent."""
        w = self.writer
        if w is None or not (w._buf or (w.unsynced and self.cfg.appendfsync == "always")):
            return
        always = self.cfg.appendfsync == "always"
        try:
            w.write()
        except AofWriteError as e:
            self._write_failed(e)
            if always:
                raise
            return
        if not self.aof_write_ok and w.bg_error is None:
            self.aof_write_ok = True
            self.log("AOF write error looks solved, Redis can write again.")
            self._update_write_error()
        if always:
            try:
                w.fsync()
            except AofWriteError as e:
                self._write_failed(e, fsync=True)
                raise

    def after_writes(self) -> None:
        """Log the effects of the commands just run; call before sending their replies."""
        if self.stage() or (self.writer is not None and self.writer.unsynced
                            and self.cfg.appendfsync == "always"):
            self.commit()

    def _write_failed(self, e: OSError, fsync: bool = False) -> None:
        self.aof_write_ok = False
        self.aof_write_error = e.strerror or str(e)
        what = "fsync" if fsync else "write"
        if self.cfg.appendfsync == "always":
            self.log(f"Can't persist AOF for {what} error when the AOF fsync policy is "
                     f"'always': {self.aof_write_error}")
        else:
            self.log(f"Error writing to the AOF file: {self.aof_write_error}")
        self._update_write_error()

    def _update_write_error(self) -> None:
        """Set the engine's MISCONF error (or clear it) from the disk error state."""
        err: str | None = None
        if self.cfg.stop_writes_on_bgsave_error and self.cfg.save and not self.last_bgsave_ok:
            err = RDB_MISCONF
        elif self.writer is not None and (not self.aof_write_ok or self.writer.bg_error):
            why = self.aof_write_error
            if self.writer.bg_error is not None:
                why = self.writer.bg_error.strerror or str(self.writer.bg_error)
            err = f"MISCONF Errors writing to the AOF file: {why}"
        self.engine.write_error = err

    def tick(self) -> None:
        w = self.writer
        if w is not None:
            if w._buf:  # a write failed earlier: retry (Redis retries from serverCron)
                with contextlib.suppress(AofWriteError):
                    self.commit()
            if self.cfg.appendfsync == "everysec":
                now = time.monotonic()
                if now - self._last_fsync >= 1.0 and w.unsynced and w.fsync_in_background():
                    self._last_fsync = now
            if w.bg_error is not None and self.aof_write_ok:
                self.aof_write_ok = False
                self.aof_write_error = w.bg_error.strerror or str(w.bg_error)
                self.log(f"Error fsyncing the AOF file: {self.aof_write_error}")
            elif w.bg_error is None and not self.aof_write_ok and not w._buf:
                self.aof_write_ok = True
                self.log("AOF write error looks solved, Redis can write again.")
            self._update_write_error()
        self._reap_child()
        if self._child is None:
            if self._pending_rewrite:
                self._pending_rewrite = False
                self.bgrewriteaof()
            elif self._pending_save:
                self._pending_save = False
                self.bgsave()
            elif (point := self._save_point_due()) is not None:
                self.log(f"{point[1]} changes in {point[0]} seconds. Saving...")
                self.bgsave()
            elif self._auto_rewrite_due():
                self.log("Starting automatic rewriting of AOF")
                self.bgrewriteaof()
        self.backup.poll()

    def _save_point_due(self) -> tuple[int, int] | None:
        """The (seconds, changes) save point that is due, if any."""
        changes = self.engine.dirty - self.dirty_at_save
        if not changes or not self.cfg.save:
            return None
        elapsed = time.time() - self.lastsave
        if not self.last_bgsave_ok and elapsed < 5:  # CONFIG_BGSAVE_RETRY_DELAY
            return None
        for secs, n in self.cfg.save:
            if changes >= n and elapsed >= secs:
                return secs, n
        return None

    def _auto_rewrite_due(self) -> bool:
        w = self.writer
        pct = self.cfg.auto_aof_rewrite_percentage
        if w is None or not pct or time.monotonic() < self.rewrite_not_before:
            return False
        size = self.aof_size()
        if size <= self.cfg.auto_aof_rewrite_min_size:
            return False
        base = max(self.aof_rewrite_base_size, 1)
        return (size - base) * 100 // base >= pct

    def aof_size(self) -> int:
        total = 0
        for af in self.manifest.files:
            if af.kind not in ("b", "i"):
                continue
            try:
                total += os.path.getsize(self._aof_path(af.name))
            except OSError:
                pass
        return total

    # -- snapshots ---------------------------------------------------------------

    def save(self) -> None:
        """SAVE: write the snapshot in the foreground (raises OSError on failure)."""
        if self._child is not None and self._child.kind == "save":
            raise RuntimeError("ERR Background save already in progress")
        write_snapshot(self.engine, self.snapshot_path, fmt=self.cfg.snapshot_kind())
        self.lastsave = int(time.time())
        self.dirty_at_save = self.engine.dirty
        self.last_bgsave_ok = True
        self.rdb_saves += 1
        self._update_write_error()

    def after_flushall(self) -> None:
        """FLUSHALL: stop a BGSAVE (its data is gone) and, with save points set, save now."""
        if self._child is not None and self._child.kind == "save":
            self._kill_child()
        if self.cfg.save:
            try:
                self.save()
            except OSError as e:
                self.log(f"Failed saving the DB after FLUSHALL: {e}")

    def bgsave(self, schedule: bool = False) -> str:
        """BGSAVE [SCHEDULE]: fork a child that writes the snapshot. Redis's replies."""
        ch = self._child
        if ch is not None:
            if ch.kind == "save":
                raise RuntimeError("ERR Background save already in progress")
            if schedule:
                self._pending_save = True
                return "Background saving scheduled"
            raise RuntimeError(
                "ERR Another child process is active (AOF?): can't BGSAVE right now. "
                "Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible."
            )
        dirty = self.engine.dirty
        path = self.snapshot_path
        fmt = self.cfg.snapshot_kind()
        pid = self._fork(lambda: write_snapshot(self.engine, path, fmt=fmt))
        self._child = _Child(pid, "save", time.monotonic(), dirty=dirty)
        self.log(f"Background saving started by pid {pid}")
        return "Background saving started"

    # -- AOF rewrite -------------------------------------------------------------

    def _write_base(self, path: str) -> None:
        """Write the current dataset as a base file at ``path`` (fsynced)."""
        with open(path, "wb", buffering=0) as f:
            buf: list[bytes] = []
            n = 0
            for piece in base_bytes(self.engine, self.cfg.aof_use_rdb_preamble):
                buf.append(piece)
                n += len(piece)
                if n >= 1 << 20:
                    f.write(b"".join(buf))
                    buf, n = [], 0
            f.write(b"".join(buf))
            os.fsync(f.fileno())

    def _rewrite_foreground(self) -> None:
        """Write a base file from the current data and start a new incremental file."""
        base = self._file("b")
        incr = self._file("i")
        tmp = self._aof_path(f"temp-rewriteaof-{os.getpid()}.aof")
        try:
            self._write_base(tmp)
            os.replace(tmp, self._aof_path(base.name))
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        old = list(self.manifest.files)
        if self.writer is not None:
            self.writer.close()
        self.writer = AofWriter(self._aof_path(incr.name), self.cfg.appendfsync)
        self.manifest = Manifest([base, incr])
        write_atomic(self.manifest_path, self.manifest.dump())
        self._remove_files(old)
        self.aof_base_size = os.path.getsize(self._aof_path(base.name))
        self.aof_rewrite_base_size = self.aof_size()

    def bgrewriteaof(self) -> str:
        """BGREWRITEAOF: new writes go to a new incremental file; a child writes the base."""
        ch = self._child
        if ch is not None:
            if ch.kind == "rewrite":
                raise RuntimeError("ERR Background append only file rewriting already in progress")
            self._pending_rewrite = True
            return "Background append only file rewriting scheduled"
        os.makedirs(self.aof_dir, exist_ok=True)
        if self.writer is not None:
            # everything so far goes to the current incremental file; from now on a new one
            self.after_writes()
            self.writer.close()
            self.writer = None
            incr: AofFile | None = self._file("i")
            assert incr is not None
            # the new file before the manifest naming it (see _open_aof)
            self.writer = AofWriter(self._aof_path(incr.name), self.cfg.appendfsync)
            self.manifest.files.append(incr)
            write_atomic(self.manifest_path, self.manifest.dump())
        else:
            incr = None  # AOF off: Redis still rewrites, into a base with no increment
            if not self.manifest.files and os.path.exists(self.manifest_path):
                self.manifest = self._read_manifest()
        return self._start_rewrite(incr, enabling=False)

    def _start_rewrite(self, incr: AofFile | None, enabling: bool) -> str:
        tmp = self._aof_path(f"temp-rewriteaof-bg-{os.getpid()}.aof")
        try:
            pid = self._fork(lambda: self._write_base(tmp))
        except OSError as e:
            self.log(f"Can't rewrite append only file in background: fork: {e}")
            raise RuntimeError("ERR Can't execute an AOF background rewriting. Please check "
                               "the server logs for more information.")
        self._child = _Child(pid, "rewrite", time.monotonic(), tmp=tmp,
                             base=self._file("b"), incr=incr, enabling=enabling)
        self.log(f"Background append only file rewriting started by pid {pid}")
        return "Background append only file rewriting started"

    def _finish_rewrite(self, ch: _Child) -> None:
        base = ch.base
        assert base is not None
        base_path = self._aof_path(base.name)
        os.replace(ch.tmp, base_path)
        if ch.enabling:  # the temp incremental file becomes the AOF's first one
            assert self.writer is not None
            incr = self._file("i", max(self.manifest.next_seq("i"), 1))
            os.replace(self.writer.path, self._aof_path(incr.name))
            self.writer.path = self._aof_path(incr.name)
            keep = [incr]
        else:
            keep = [f for f in self.manifest.incrs if ch.incr is not None and f.seq >= ch.incr.seq]
        old = list(self.manifest.files)
        self.manifest = Manifest([base, *keep])
        write_atomic(self.manifest_path, self.manifest.dump())
        self._remove_files(old)
        self.aof_base_size = os.path.getsize(base_path)
        self.aof_rewrite_base_size = self.aof_size()
        self.aof_rewrites += 1
        self.rewrite_failures = 0
        self.log("Background AOF rewrite finished successfully")

    def _remove_files(self, files: list[AofFile]) -> None:
        keep = {f.name for f in self.manifest.files}
        for f in files:
            if f.name not in keep:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self._aof_path(f.name))

    # -- children ----------------------------------------------------------------

    def _fork(self, work: Callable[[], Any]) -> int:
        if self.writer is not None:
            self.after_writes()
        parent = os.getpid()
        t0 = time.perf_counter()
        pid = os.fork()
        if pid == 0:  # child: write and leave without running the parent's cleanup
            code = 0
            threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
            try:
                with contextlib.suppress(ValueError, OSError):
                    signal.set_wakeup_fd(-1)  # the parent's event loop must not hear us
                for sig in (signal.SIGTERM, signal.SIGINT):
                    with contextlib.suppress(ValueError, OSError):
                        signal.signal(sig, signal.SIG_DFL)
                work()
            except BaseException as e:  # noqa: BLE001
                with contextlib.suppress(OSError):
                    os.write(2, f"background job failed: {e!r}\n".encode())
                code = 1
            os._exit(code)
        self.total_forks += 1
        self.latest_fork_usec = int((time.perf_counter() - t0) * 1_000_000)  # INFO stats
        return pid

    def _reap_child(self, block: bool = False) -> None:
        ch = self._child
        if ch is None:
            return
        code = child_exit(ch.pid, block)
        if code is None:
            return
        self._child = None
        ok = code == 0
        secs = int(time.monotonic() - ch.started)
        if ch.kind == "save":
            self.last_bgsave_ok = ok
            self.last_bgsave_secs = secs
            if ok:
                self.lastsave = int(time.time())
                self.dirty_at_save = ch.dirty
                self.rdb_saves += 1
                self.log("Background saving terminated with success")
            else:
                self.log("Background saving error")
            self._update_write_error()
            return
        self.last_rewrite_secs = secs
        if ok:
            try:
                self._finish_rewrite(ch)
            except OSError as e:
                ok = False
                self.log(f"Error finishing the AOF rewrite: {e}")
        self.last_rewrite_ok = ok
        if not ok:
            with contextlib.suppress(OSError):
                os.unlink(ch.tmp)
            self.rewrite_failures += 1
            if self.rewrite_failures >= 3:  # Redis's aofRewriteLimited: back off
                delay = min(60 * 2 ** (self.rewrite_failures - 3), 3600)
                self.rewrite_not_before = time.monotonic() + delay
            self.log("Background AOF rewrite terminated with error")
            if ch.enabling:
                self.log("Redis needs to enable the AOF but can't write its base: AOF stays off")
                self._stop_aof(remove=True)

    def _kill_child(self) -> None:
        ch = self._child
        if ch is None:
            return
        with contextlib.suppress(OSError):
            os.kill(ch.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(ch.pid, 0)
        self._child = None
        if ch.tmp:
            with contextlib.suppress(OSError):
                os.unlink(ch.tmp)
        if ch.kind == "save":
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(self.cfg.dir, f"temp-{ch.pid}.sldb"))
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(self.cfg.dir, f"temp-{ch.pid}.rdb"))

    def wait_children(self) -> None:
        """Block until a running background job ends (tests, shutdown), then finish it."""
        self._reap_child(block=True)

    @property
    def child_kind(self) -> str | None:
        return self._child.kind if self._child else None

    # -- run-time switches --------------------------------------------------------

    def set_appendonly(self, on: bool) -> None:
        """CONFIG SET appendonly: on writes the current data first (in a child), as Redis."""
        if on == self.cfg.appendonly:
            return
        if not on:
            self.cfg.appendonly = False
            self._stop_aof(remove=self._child is not None and self._child.enabling)
            return
        if self._child is not None:
            self.wait_children()
        os.makedirs(self.aof_dir, exist_ok=True)
        if os.path.exists(self.manifest_path):
            self.manifest = self._read_manifest()
        tmp_incr = self._aof_path(f"temp-{self.cfg.appendfilename}.incr")
        with contextlib.suppress(OSError):
            os.unlink(tmp_incr)
        self.writer = AofWriter(tmp_incr, self.cfg.appendfsync)
        self.engine.effects = []
        self.cfg.appendonly = True
        try:
            self._start_rewrite(None, enabling=True)
        except RuntimeError:
            self._stop_aof(remove=True)
            raise OSError("fork failed")

    def _stop_aof(self, remove: bool) -> None:
        ch = self._child
        if ch is not None and ch.kind == "rewrite":
            self._kill_child()
        w = self.writer
        self.writer = None
        self.engine.effects = [] if self.listeners else None
        self.cfg.appendonly = False
        if w is not None:
            with contextlib.suppress(OSError):
                w.close()
            if remove:
                with contextlib.suppress(OSError):
                    os.unlink(w.path)
        self.aof_write_ok = True
        self._update_write_error()

    def set_appendfsync(self, policy: str) -> None:
        """CONFIG SET appendfsync: the writer follows the new policy at once."""
        self.cfg.appendfsync = policy
        if self.writer is not None:
            self.writer.fsync_policy = policy

    def set_config(self, name: str, value: Any) -> None:
        """CONFIG SET of a setting kept in ``cfg`` (save points, dir, ...); the MISCONF
        state follows (save points / stop-writes-on-bgsave-error may change it)."""
        setattr(self.cfg, name, value)
        self._update_write_error()

    def aof_enabled(self) -> bool:
        return self.writer is not None

    def fsync_aof(self) -> None:
        """WAITAOF: write the pending effects and fsync the AOF (if it is on)."""
        self.after_writes()
        if self.writer is not None:
            self.writer.fsync()

    @property
    def aof_enabling(self) -> bool:
        return self._child is not None and self._child.enabling

    def debug_reload(self, save: bool = True) -> None:
        """DEBUG RELOAD: save a snapshot, then replace the dataset with what it holds."""
        if save:
            self.save()
        loaded = read_snapshot(self.engine, self.snapshot_path)
        self._install(loaded)

    def debug_loadaof(self) -> None:
        """DEBUG LOADAOF: flush the AOF, load it into a scratch engine, then swap it in."""
        if self.writer is None:
            raise RuntimeError("ERR AOF is not enabled")
        self.after_writes()
        self.writer.fsync()
        scratch = Engine(self.engine.clock, databases=len(self.engine.dbs))
        scratch.config = self.engine.config
        scratch.loading = True
        self._load_aof(scratch)
        # what the replay counted (its EXECs' commands, see Client.loading) is the server's
        self.engine.stats_commands += scratch.stats_commands
        from ..engine.scripting.runtime import get_scripting

        libs = [lib.code for lib in get_scripting(scratch).functions.libraries.values()]
        self._install(Loaded(dbs={db.index: db for db in scratch.dbs}, functions=libs))

    def _install(self, loaded: Loaded) -> None:
        eng = self.engine
        saved = eng.effects
        eng.effects = None
        try:
            install(eng, loaded)
        finally:
            eng.effects = saved

    def close(self, kill_children: bool = False) -> None:
        """Shutdown: let a background job finish (or kill it), write and fsync the AOF.

        Raises ``AofWriteError`` when the last write or fsync fails.
        """
        if self._child is not None:
            if kill_children and not self._child.enabling:
                self._kill_child()
            else:
                self.wait_children()
        self.backup.close()
        w = self.writer
        if w is not None:
            self.stage()
            self.writer = None
            w.close()

    # -- INFO persistence ----------------------------------------------------------

    def info(self) -> dict[str, Any]:
        eng = self.engine
        ch = self._child
        kind = ch.kind if ch else None
        running = int(time.monotonic() - ch.started) if ch else -1
        w = self.writer
        out: dict[str, Any] = {
            "loading": int(eng.loading),
            "async_loading": 0,
            "current_cow_peak": 0,
            "current_cow_size": 0,
            "current_cow_size_age": 0,
            "current_fork_perc": "0.00",
            "current_save_keys_processed": 0,
            "current_save_keys_total": 0,
        }
        if eng.loading:
            total = max(self.loading_total, 1)
            elapsed = max(time.time() - self.loading_started, 0.001)
            done = min(self.loading_done, total)
            out.update({
                "loading_start_time": self.loading_started,
                "loading_total_bytes": self.loading_total,
                "loading_rdb_used_mem": 0,
                "loading_loaded_bytes": done,
                "loading_loaded_perc": f"{done * 100 / total:.2f}",
                "loading_eta_seconds": int((total - done) / max(done / elapsed, 1)),
            })
        out.update({
            "rdb_changes_since_last_save": eng.dirty - self.dirty_at_save,
            "rdb_bgsave_in_progress": int(kind == "save"),
            "rdb_last_save_time": self.lastsave,
            "rdb_last_bgsave_status": "ok" if self.last_bgsave_ok else "err",
            "rdb_last_bgsave_time_sec": self.last_bgsave_secs,
            "rdb_current_bgsave_time_sec": running if kind == "save" else -1,
            "rdb_saves": self.rdb_saves,
            "rdb_last_cow_size": 0,
            "rdb_last_load_keys_expired": self.loaded_expired,
            "rdb_last_load_keys_loaded": self.loaded_keys,
            "aof_enabled": int(self.cfg.appendonly),
            "aof_rewrite_in_progress": int(kind == "rewrite"),
            "aof_rewrite_scheduled": int(self._pending_rewrite),
            "aof_last_rewrite_time_sec": self.last_rewrite_secs,
            "aof_current_rewrite_time_sec": running if kind == "rewrite" else -1,
            "aof_last_bgrewrite_status": "ok" if self.last_rewrite_ok else "err",
            "aof_rewrites": self.aof_rewrites,
            "aof_rewrites_consecutive_failures": self.rewrite_failures,
            "aof_last_write_status": "ok" if self.aof_write_ok else "err",
            "aof_last_cow_size": 0,
            "module_fork_in_progress": 0,
            "module_fork_last_cow_size": 0,
        })
        if self.cfg.appendonly:
            out.update({
                "aof_current_size": self.aof_size(),
                "aof_base_size": self.aof_base_size,
                "aof_pending_rewrite": int(self._pending_rewrite),
                "aof_buffer_length": w.pending if w is not None else 0,
                "aof_pending_bio_fsync": int(w is not None and w.bg_fsync_running),
                "aof_delayed_fsync": w.delayed_fsyncs if w is not None else 0,
            })
        return out
