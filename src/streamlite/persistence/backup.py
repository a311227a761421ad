"""Online backups (Redis 8.10's BACKUP START/STATUS/LIST/SEAL/ABORT/CLEANUP).

Model, from the command pages: one backup at a time moves through a state machine

    idle -> [pending ->] snapshotting -> incrementing -> sealed -> (CLEANUP) idle
    pending | snapshotting | incrementing -> (ABORT, or an error) failed -> (CLEANUP) idle

and leaves, in ``<dir>/<backupdirname>`` (which must be empty at START), the file
set of a multi-part AOF that restores the dataset as it was at the seal:

    appendonly.aof.1.base.rdb     the dataset at START (an RDB file, as Redis's base
                                  with aof-use-rdb-preamble; .base.aof, the RESP
                                  base, without it or for data RDB cannot hold)
    appendonly.aof.1.incr.aof     every write from START to SEAL, as the AOF has them
    appendonly.aof.manifest       names the two (written at SEAL)

To restore, copy the three files into ``<dir>/<appenddirname>`` and start with
``appendonly yes`` (streamlite's loader, like Redis's, reads an RDB base).

How streamlite makes them: the base is written by a forked child, as a BGSAVE
(a job already running makes the backup ``pending`` until it ends). From the fork
on, the writes the persistence layer hands to its listeners (the batches the AOF
gets) are appended to the backup's own INCR file, so the file set is the same
whether the live AOF is on or off, and nothing of the live AOF is linked or
rotated. SEAL fsyncs the INCR file, stops feeding it and writes the manifest.
CLEANUP removes the files this backup made (so does a START after a failed one);
``backup-sealed-ttl`` seconds after a seal (0: never) it runs by itself.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from typing import TYPE_CHECKING, Any

from ..engine.errors import CommandError
from .aof import AofFile, AofWriter, Manifest, write_atomic
from .manager import child_exit
from .rewrite import base_bytes

if TYPE_CHECKING:
    from .manager import Persistence

IN_PROGRESS = ("pending", "snapshotting", "incrementing")


class BackupError(CommandError):
    """A BACKUP subcommand that cannot run now; the message is the error reply."""


class Backup:
    def __init__(self, p: Persistence) -> None:
        self.p = p
        self.state = "idle"
        self.error = ""
        self.start_time = 0
        self.end_time = 0
        self.files: list[str] = []  # pinned so far (absolute paths), as BACKUP LIST shows
        self._pid = 0
        self._base = ""
        self._incr: AofWriter | None = None
        self._sealed_at = 0.0
        self._made_effects = False  # the engine recorded no effects (no AOF, no replica)

    # -- paths -------------------------------------------------------------------------

    @property
    def dir(self) -> str:
        name = str(self.p.engine.config.get("backupdirname", "backupdir"))
        return os.path.abspath(os.path.join(self.p.cfg.dir, name))

    def _path(self, kind: str) -> str:
        stem = self.p.cfg.appendfilename
        if kind in ("base.rdb", "base.aof"):
            return os.path.join(self.dir, f"{stem}.1.{kind}")
        if kind == "incr":
            return os.path.join(self.dir, f"{stem}.1.incr.aof")
        return os.path.join(self.dir, f"{stem}.manifest")

    # -- commands ----------------------------------------------------------------------

    def start(self) -> None:
        if self.state in IN_PROGRESS or self.state == "sealed":
            raise BackupError("ERR Backup already in progress")
        if self.state == "failed":  # "after aborting, you can start a new backup"
            self._remove()
        os.makedirs(self.dir, exist_ok=True)
        if os.listdir(self.dir):
            raise BackupError(f"ERR Backup directory {self.dir} is not empty")
        self.error, self.files = "", []
        self.start_time, self.end_time = int(time.time()), 0
        self.state = "pending"
        self.poll()

    def seal(self) -> None:
        self.poll()
        if self.state != "incrementing":
            raise BackupError("ERR No backup ready to seal")
        w = self._incr
        assert w is not None
        self.p.stage()  # writes made before SEAL belong to the backup
        try:
            w.write()
            w.fsync()
            manifest = Manifest([AofFile(os.path.basename(self._base), 1, "b"),
                                 AofFile(os.path.basename(w.path), 1, "i")])
            write_atomic(self._path("manifest"), manifest.dump())
        except OSError as e:
            self._fail(f"seal failed: {e.strerror or e}")
            raise BackupError(f"ERR Backup seal failed: {e.strerror or e}")
        self._stop_feeding()
        self.files = [self._base, w.path, self._path("manifest")]
        self.state, self.end_time = "sealed", int(time.time())
        self._sealed_at = time.monotonic()

    def abort(self) -> None:
        self.poll()
        if self.state not in IN_PROGRESS:
            raise BackupError("ERR No backup in progress")
        self._fail("aborted by user")

    def cleanup(self) -> None:
        """Remove what this backup made and go idle (idle stays idle)."""
        self.poll()
        if self.state in IN_PROGRESS:
            raise BackupError("ERR Backup in progress: BACKUP ABORT it first")
        self._remove()

    def _remove(self) -> None:
        for path in (self._path("base.rdb"), self._path("base.aof"), self._path("incr"),
                     self._path("manifest")):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        self.state, self.error, self.files = "idle", "", []
        self.start_time = self.end_time = 0

    def status(self) -> dict[bytes, Any]:
        self.poll()
        return {b"state": self.state.encode(), b"error": self.error.encode(),
                b"start_time": self.start_time, b"end_time": self.end_time}

    def paths(self) -> list[bytes]:
        self.poll()
        return [f.encode() for f in self.files]

    # -- progress ----------------------------------------------------------------------

    def poll(self) -> None:
        """Advance: start a pending base when no other job runs, finish a written one,
        clean up a sealed backup past its TTL. Called by each subcommand and ``tick``."""
        if self.state == "pending" and self.p.child_kind is None:
            self._start_base()
        elif self.state == "snapshotting":
            self._reap(block=False)
        elif self.state == "sealed":
            ttl = int(self.p.engine.config.get("backup-sealed-ttl", 0) or 0)
            if ttl and time.monotonic() - self._sealed_at >= ttl:
                self.p.log(f"Backup sealed {ttl} s ago (backup-sealed-ttl): cleaning it up")
                self._remove()

    def _start_base(self) -> None:
        self.p.stage()  # writes so far are in the base: the INCR file starts after them
        rdb, resp = self._path("base.rdb"), self._path("base.aof")
        use_rdb = self.p.cfg.aof_use_rdb_preamble
        try:
            self._incr = AofWriter(self._path("incr"), "no")
            self._pid = self.p._fork(lambda: _write_base(self.p, rdb if use_rdb else None, resp))
        except OSError as e:
            self._fail(f"can't start the base snapshot: {e.strerror or e}")
            return
        eng = self.p.engine
        if eng.effects is None:  # AOF off and no replica: start recording writes
            eng.effects, self._made_effects = [], True
        self.p.listeners.append(self._feed)
        self.state = "snapshotting"

    def _feed(self, effects: list[tuple[int, list[bytes]]]) -> None:
        w = self._incr
        if w is None:
            return
        w.feed(effects)
        try:
            w.write()
        except OSError as e:
            self._fail(f"INCR file write failed: {e.strerror or e}")

    def _reap(self, block: bool) -> None:
        code = child_exit(self._pid, block)
        if code is None:
            return
        self._pid = 0
        if code != 0:
            self._fail("the base snapshot failed (see the server log)")
            return
        rdb = self._path("base.rdb")
        self._base = rdb if os.path.exists(rdb) else self._path("base.aof")
        self.files = [self._base]
        self.state = "incrementing"

    def _stop_feeding(self) -> None:
        with contextlib.suppress(ValueError):
            self.p.listeners.remove(self._feed)
        if self._incr is not None:
            self._incr.close()
            self._incr = None
        p = self.p
        if self._made_effects and p.writer is None and not p.listeners:
            p.engine.effects = None  # nobody else wants them: stop recording again
        self._made_effects = False

    def _fail(self, why: str) -> None:
        if self._pid:
            with contextlib.suppress(OSError):
                os.kill(self._pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self._pid, 0)
            self._pid = 0
        self._stop_feeding()
        self.state, self.error = "failed", why
        self.p.log(f"Backup failed: {why}")

    def close(self) -> None:
        """At shutdown: a backup still in progress fails (its files stay)."""
        if self.state in IN_PROGRESS:
            self._fail("server shut down")


def _write_base(p: Persistence, rdb: str | None, path: str) -> None:
    """In the child: the dataset as an RDB file at ``rdb``; else as the AOF's RESP base
    at ``path``, fsynced: plain commands without the RDB preamble (``rdb`` None), or
    RESTOREs of streamlite's payloads when RDB cannot hold the data (arrays have no RDB
    encoding here)."""
    payloads = rdb is not None
    if rdb is not None:
        from .rdb import write_rdb

        try:
            write_rdb(p.engine, rdb)
            return
        except (ValueError, KeyError) as e:  # a type with no RDB encoding (arrays)
            os.write(2, f"backup: an RDB base cannot hold this data ({e}): RESP base\n".encode())
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        for piece in base_bytes(p.engine, payloads):
            f.write(piece)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
