"""Persistence for one engine: loading at start, the AOF, snapshots, background jobs.

A front (server or embedded) owns one ``Persistence`` and calls:

- ``load()`` once before serving;
- ``after_writes()`` after executing commands and BEFORE sending their replies:
  it moves the engine's effects into the AOF and flushes it (fsync under
  ``appendfsync always``), so no client sees a reply for a write that is not in
  the log;
- ``tick()`` periodically (about every 100 ms): ``everysec`` fsync, save points,
  automatic AOF rewrite, and reaping of background children;
- ``close()`` at shutdown.

Background work (BGSAVE, BGREWRITEAOF) forks, as Redis does: the child writes a
point-in-time copy of the dataset while the parent keeps serving. During an AOF
rewrite new writes already go to a fresh incremental file listed in the
manifest, so nothing written meanwhile is lost whatever happens to the child.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..engine.core import Engine
from .aof import AofError, AofFile, AofWriter, Manifest, fsync_dir, replay, write_atomic
from .snapshot import SnapshotError, load_snapshot, write_snapshot
from .snapshot import commands_bytes as _commands_bytes

LoadError = (AofError, SnapshotError)


@dataclass
class PersistenceConfig:
    dir: str = "."
    appendonly: bool = False
    appendfsync: str = "everysec"  # always | everysec | no
    appendfilename: str = "appendonly.aof"
    appenddirname: str = "appendonlydir"
    dbfilename: str = "dump.sldb"
    save: list[tuple[int, int]] = field(default_factory=lambda: [(3600, 1), (300, 100), (60, 10000)])
    aof_load_truncated: bool = True
    auto_aof_rewrite_percentage: int = 100
    auto_aof_rewrite_min_size: int = 64 * 1024 * 1024


def _default_log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


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
        self.dirty_at_save = 0
        self.aof_base_size = 0
        self.loading_time_ms = 0
        self.loaded_keys = 0
        self._child: tuple[int, str, Any] | None = None  # (pid, kind, data)
        self._last_fsync = time.monotonic()
        self._pending_rewrite = False
        self._pending_save = False
        os.makedirs(config.dir, exist_ok=True)
        engine.ext["persistence"] = self

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

    # -- loading -----------------------------------------------------------------

    def load(self) -> None:
        """Load the AOF (when enabled and present) or else the snapshot, then open the AOF."""
        eng = self.engine
        t0 = time.monotonic()
        eng.loading = True
        try:
            if self.cfg.appendonly and os.path.exists(self.manifest_path):
                self._load_aof()
            elif os.path.exists(self.snapshot_path):
                n = load_snapshot(eng, self.snapshot_path)
                self.log(f"DB loaded from snapshot {self.cfg.dbfilename}: {n} commands")
        finally:
            eng.loading = False
        self.loading_time_ms = int((time.monotonic() - t0) * 1000)
        self.loaded_keys = sum(len(db) for db in eng.dbs)
        self.dirty_at_save = eng.dirty
        if self.cfg.appendonly:
            self._open_aof()

    def _load_aof(self) -> None:
        with open(self.manifest_path, "rb") as f:
            self.manifest = Manifest.parse(f.read(), self.manifest_path)
        files = ([self.manifest.base] if self.manifest.base else []) + self.manifest.incrs
        total = 0
        for i, af in enumerate(files):
            path = self._aof_path(af.name)
            if not os.path.exists(path):
                raise AofError(f"The AOF file {af.name} listed in the manifest doesn't exist")
            last = i == len(files) - 1
            total += replay(
                self.engine, path,
                allow_truncated=last and self.cfg.aof_load_truncated, log=self.log,
            )
        if self.manifest.base:
            self.aof_base_size = os.path.getsize(self._aof_path(self.manifest.base.name))
        self.log(f"DB loaded from append only file: {total} commands")

    def _open_aof(self) -> None:
        """Open the last incremental file for appending, creating the AOF if needed."""
        os.makedirs(self.aof_dir, exist_ok=True)
        self.engine.effects = []
        if not self.manifest.files:
            # a new AOF: its base is the current dataset (empty on a fresh start)
            self._rewrite_foreground()
            return
        incrs = self.manifest.incrs
        if not incrs:
            af = AofFile(f"{self.cfg.appendfilename}.{self.manifest.next_seq('i')}.incr.aof",
                         self.manifest.next_seq("i"), "i")
            self.manifest.files.append(af)
            write_atomic(self.manifest_path, self.manifest.dump())
            incrs = [af]
        self.writer = AofWriter(self._aof_path(incrs[-1].name), self.cfg.appendfsync)

    # -- the write path ----------------------------------------------------------

    def after_writes(self) -> None:
        """Log the effects of the commands just run; call before sending their replies."""
        w = self.writer
        eff = self.engine.effects
        if w is None or not eff:
            return
        self.engine.effects = []
        w.feed(eff)
        w.flush()

    def tick(self) -> None:
        w = self.writer
        if w is not None and self.cfg.appendfsync == "everysec":
            now = time.monotonic()
            if now - self._last_fsync >= 1.0:
                self._last_fsync = now
                w.fsync()
        self._reap_child()
        if self._child is None:
            if self._pending_rewrite:
                self._pending_rewrite = False
                self.bgrewriteaof()
            elif self._pending_save:
                self._pending_save = False
                self.bgsave()
            elif self._save_point_due():
                self.bgsave()
            elif self._auto_rewrite_due():
                self.log("Starting automatic rewriting of AOF")
                self.bgrewriteaof()

    def _save_point_due(self) -> bool:
        changes = self.engine.dirty - self.dirty_at_save
        if not changes or not self.cfg.save:
            return False
        elapsed = time.time() - self.lastsave
        return any(changes >= n and elapsed >= secs for secs, n in self.cfg.save)

    def _auto_rewrite_due(self) -> bool:
        w = self.writer
        pct = self.cfg.auto_aof_rewrite_percentage
        if w is None or not pct:
            return False
        size = self.aof_size()
        if size < self.cfg.auto_aof_rewrite_min_size:
            return False
        base = max(self.aof_base_size, 1)
        return (size - base) * 100 // base >= pct

    def aof_size(self) -> int:
        total = 0
        for af in self.manifest.files:
            try:
                total += os.path.getsize(self._aof_path(af.name))
            except OSError:
                pass
        return total

    # -- snapshots ---------------------------------------------------------------

    def save(self) -> None:
        """SAVE: write the snapshot in the foreground."""
        write_snapshot(self.engine, self.snapshot_path)
        self.lastsave = int(time.time())
        self.dirty_at_save = self.engine.dirty
        self.last_bgsave_ok = True

    def bgsave(self) -> str:
        """BGSAVE: fork a child that writes the snapshot. Returns Redis's status text."""
        if self._child is not None:
            kind = self._child[1]
            raise RuntimeError(
                "ERR Background save already in progress" if kind == "save" else
                "ERR Background append only file rewriting already in progress"
            )
        dirty = self.engine.dirty
        pid = self._fork(lambda: write_snapshot(self.engine, self.snapshot_path))
        self._child = (pid, "save", dirty)
        return "Background saving started"

    # -- AOF rewrite -------------------------------------------------------------

    def _new_incr(self) -> AofFile:
        seq = self.manifest.next_seq("i")
        return AofFile(f"{self.cfg.appendfilename}.{seq}.incr.aof", seq, "i")

    def _rewrite_foreground(self) -> None:
        """Write a base file from the current data and start a new incremental file."""
        base = AofFile(f"{self.cfg.appendfilename}.{self.manifest.next_seq('b')}.base.aof",
                       self.manifest.next_seq("b"), "b")
        incr = self._new_incr()
        self._write_base(self._aof_path(base.name))
        old = list(self.manifest.files)
        if self.writer is not None:
            self.writer.close()
        self.manifest = Manifest([base, incr])
        self.writer = AofWriter(self._aof_path(incr.name), self.cfg.appendfsync)
        write_atomic(self.manifest_path, self.manifest.dump())
        self._remove_files(old)
        self.aof_base_size = os.path.getsize(self._aof_path(base.name))

    def _write_base(self, path: str) -> None:
        tmp = path + f".tmp-{os.getpid()}"
        with open(tmp, "wb") as f:
            for piece in _commands_bytes(self.engine):
                f.write(piece)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fsync_dir(os.path.dirname(path))

    def bgrewriteaof(self) -> str:
        """BGREWRITEAOF: new writes go to a new incremental file; a child writes the base."""
        if self._child is not None:
            if self._child[1] == "rewrite":
                raise RuntimeError("ERR Background append only file rewriting already in progress")
            self._pending_rewrite = True
            return "Background append only file rewriting scheduled"
        if self.writer is None:  # AOF off: Redis still rewrites into a fresh AOF
            os.makedirs(self.aof_dir, exist_ok=True)
        else:
            self.after_writes()
            self.writer.close()
        incr = self._new_incr()
        self.manifest.files.append(incr)
        write_atomic(self.manifest_path, self.manifest.dump())
        if self.writer is not None or self.cfg.appendonly:
            self.writer = AofWriter(self._aof_path(incr.name), self.cfg.appendfsync)
            self.engine.effects = self.engine.effects or []
        seq = self.manifest.next_seq("b")
        base = AofFile(f"{self.cfg.appendfilename}.{seq}.base.aof", seq, "b")
        path = self._aof_path(base.name)
        pid = self._fork(lambda: self._write_base(path))
        self._child = (pid, "rewrite", (base, incr))
        return "Background append only file rewriting started"

    def _finish_rewrite(self, base: AofFile, incr: AofFile) -> None:
        old = [f for f in self.manifest.files if f.kind == "b" or f.seq < incr.seq]
        self.manifest = Manifest([base] + [f for f in self.manifest.incrs if f.seq >= incr.seq])
        write_atomic(self.manifest_path, self.manifest.dump())
        self._remove_files(old)
        self.aof_base_size = os.path.getsize(self._aof_path(base.name))
        self.log("Background AOF rewrite finished successfully")

    def _remove_files(self, files: list[AofFile]) -> None:
        keep = {f.name for f in self.manifest.files}
        for f in files:
            if f.name not in keep:
                try:
                    os.unlink(self._aof_path(f.name))
                except FileNotFoundError:
                    pass

    # -- children ----------------------------------------------------------------

    def _fork(self, work: Callable[[], Any]) -> int:
        self.after_writes()
        if self.writer is not None:
            self.writer.flush()
        pid = os.fork()
        if pid == 0:  # child: write and leave without running the parent's cleanup
            code = 0
            try:
                work()
            except BaseException as e:  # noqa: BLE001
                try:
                    os.write(2, f"background job failed: {e!r}\n".encode())
                except OSError:
                    pass
                code = 1
            os._exit(code)
        return pid

    def _reap_child(self, block: bool = False) -> None:
        if self._child is None:
            return
        pid, kind, data = self._child
        try:
            done, status = os.waitpid(pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            done, status = pid, 1 << 8
        if done == 0:
            return
        self._child = None
        ok = os.waitstatus_to_exitcode(status) == 0
        if kind == "save":
            self.last_bgsave_ok = ok
            if ok:
                self.lastsave = int(time.time())
                self.dirty_at_save = data
                self.log("Background saving terminated with success")
            else:
                self.log("Background saving error")
        else:
            self.last_rewrite_ok = ok
            if ok:
                self._finish_rewrite(*data)
            else:
                self.log("Background AOF rewrite terminated with error")

    def wait_children(self) -> None:
        """Block until a running background job ends (tests, shutdown)."""
        self._reap_child(block=True)

    @property
    def child_kind(self) -> str | None:
        return self._child[1] if self._child else None

    # -- run-time switches --------------------------------------------------------

    def set_appendonly(self, on: bool) -> None:
        """CONFIG SET appendonly: turning it on writes the current data first, as Redis."""
        if on == self.cfg.appendonly:
            return
        self.cfg.appendonly = on
        if on:
            os.makedirs(self.aof_dir, exist_ok=True)
            self.engine.effects = []
            if os.path.exists(self.manifest_path):
                with open(self.manifest_path, "rb") as f:
                    self.manifest = Manifest.parse(f.read(), self.manifest_path)
            self._rewrite_foreground()
        else:
            if self.writer is not None:
                self.writer.close()
            self.writer = None
            self.engine.effects = None

    def debug_reload(self) -> None:
        """DEBUG RELOAD: save a snapshot, empty the dataset, load it back."""
        self.save()
        self._empty()
        self.engine.loading = True
        try:
            load_snapshot(self.engine, self.snapshot_path)
        finally:
            self.engine.loading = False
        self.engine.effects = [] if self.writer is not None else None

    def debug_loadaof(self) -> None:
        """DEBUG LOADAOF: flush the AOF, empty the dataset, load the AOF back."""
        if self.writer is None:
            raise RuntimeError("ERR AOF is not enabled")
        self.after_writes()
        self.writer.fsync()
        self._empty()
        self.engine.loading = True
        try:
            self._load_aof()
        finally:
            self.engine.loading = False
        self.engine.effects = []

    def _empty(self) -> None:
        saved = self.engine.effects
        self.engine.effects = None
        for db in self.engine.dbs:
            db.clear()
        self.engine.effects = saved

    def close(self) -> None:
        self._reap_child(block=True)
        self.after_writes()
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    # -- INFO persistence ----------------------------------------------------------

    def info(self) -> dict[str, Any]:
        eng = self.engine
        kind = self.child_kind
        return {
            "loading": 0,
            "async_loading": 0,
            "current_cow_peak": 0,
            "current_cow_size": 0,
            "current_fork_perc": "0.00",
            "current_save_keys_processed": 0,
            "current_save_keys_total": 0,
            "rdb_changes_since_last_save": eng.dirty - self.dirty_at_save,
            "rdb_bgsave_in_progress": int(kind == "save"),
            "rdb_last_save_time": self.lastsave,
            "rdb_last_bgsave_status": "ok" if self.last_bgsave_ok else "err",
            "aof_enabled": int(self.cfg.appendonly),
            "aof_rewrite_in_progress": int(kind == "rewrite"),
            "aof_rewrite_scheduled": int(self._pending_rewrite),
            "aof_last_bgrewrite_status": "ok" if self.last_rewrite_ok else "err",
            "aof_last_write_status": "ok",
            "aof_current_size": self.aof_size() if self.cfg.appendonly else 0,
            "aof_base_size": self.aof_base_size,
            "loading_loaded_keys": self.loaded_keys,
            "loading_time_ms": self.loading_time_ms,
        }
