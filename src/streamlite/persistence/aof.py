"""The append-only file, in Redis 7's multi-part layout.

``<dir>/<appenddirname>/`` holds a manifest, one base file and the incremental
files written since the base was made::

    appendonly.aof.manifest        file appendonly.aof.1.base.aof seq 1 type b
                                   file appendonly.aof.1.incr.aof seq 1 type i
    appendonly.aof.1.base.aof      the dataset as commands (see rewrite.py)
    appendonly.aof.1.incr.aof      every write since, as Redis propagates it

Every file is a plain RESP command stream (Redis's AOF format), so
``redis-check-aof`` reads it. The manifest is replaced atomically (write a temp
file, fsync, rename, fsync the directory).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

import hiredis

from ..engine.core import Engine
from ..protocol.resp import encode_command


class AofError(Exception):
    """The AOF cannot be loaded (corrupt, or truncated where that is not allowed)."""


@dataclass
class AofFile:
    name: str
    seq: int
    kind: str  # "b" base, "i" incremental


@dataclass
class Manifest:
    files: list[AofFile] = field(default_factory=list)

    @property
    def base(self) -> AofFile | None:
        return next((f for f in self.files if f.kind == "b"), None)

    @property
    def incrs(self) -> list[AofFile]:
        return [f for f in self.files if f.kind == "i"]

    def next_seq(self, kind: str) -> int:
        return max((f.seq for f in self.files if f.kind == kind), default=0) + 1

    def dump(self) -> bytes:
        return b"".join(
            b"file %s seq %d type %s\n" % (f.name.encode(), f.seq, f.kind.encode())
            for f in self.files
        )

    @classmethod
    def parse(cls, data: bytes, path: str) -> Manifest:
        m = cls()
        for n, raw in enumerate(data.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith(b"#"):
                continue
            parts = line.split()
            kv = dict(zip(parts[0::2], parts[1::2], strict=False))
            try:
                m.files.append(AofFile(kv[b"file"].decode(), int(kv[b"seq"]), kv[b"type"].decode()))
            except (KeyError, ValueError):
                raise AofError(f"Invalid AOF manifest file format: {path} line {n}")
            if m.files[-1].kind not in ("b", "i"):
                raise AofError(f"Unknown AOF file type in {path} line {n}")
        return m


def fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: str, data: bytes) -> None:
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(os.path.dirname(path) or ".")


class AofWriter:
    """Appends propagated commands to one incremental file.

    ``feed`` encodes into a buffer; ``flush`` writes the buffer (and under
    ``always`` fsyncs) — fronts call it before sending the replies of the writes.
    """

    def __init__(self, path: str, fsync_policy: str) -> None:
        self.path = path
        self.fsync_policy = fsync_policy
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.size = os.fstat(self.fd).st_size
        self._buf: list[bytes] = []
        self._db = -1
        self.unsynced = False  # written but not yet fsynced

    def feed(self, effects: list[tuple[int, list[bytes]]]) -> None:
        buf = self._buf
        for db, argv in effects:
            if db != self._db:
                buf.append(encode_command([b"SELECT", b"%d" % db]))
                self._db = db
            buf.append(encode_command(argv))

    @property
    def pending(self) -> bool:
        return bool(self._buf)

    def flush(self) -> None:
        if self._buf:
            data = b"".join(self._buf)
            self._buf = []
            view = memoryview(data)
            while view:
                n = os.write(self.fd, view)
                view = view[n:]
            self.size += len(data)
            self.unsynced = True
        if self.fsync_policy == "always" and self.unsynced:
            self.fsync()

    def fsync(self) -> None:
        if self.unsynced:
            self.unsynced = False
            os.fdatasync(self.fd)

    def close(self) -> None:
        self.flush()
        self.fsync()
        os.close(self.fd)


def _cmd_len(argv: list[bytes]) -> int:
    n = len(str(len(argv))) + 3
    for a in argv:
        la = len(a)
        n += len(str(la)) + 5 + la
    return n


def replay(
    engine: Engine,
    path: str,
    *,
    allow_truncated: bool,
    log: Callable[[str], None],
    chunk: int = 1 << 22,
    start: int = 0,
    end: int | None = None,
) -> int:
    """Execute the commands of one AOF-format file; return the count executed.

    A truncated tail (an incomplete last command, or a MULTI without EXEC) is
    dropped — and cut from the file — when ``allow_truncated``; otherwise, and for
    anything that is not a RESP command, raise ``AofError`` naming file and offset.
    """
    name = os.path.basename(path)
    client = engine.client()
    client.is_master = True
    reader = hiredis.Reader()
    pos = start  # offset of the next command to parse
    multi_start = -1
    count = 0
    with open(path, "rb") as f:
        f.seek(start)
        remaining = None if end is None else end - start
        while True:
            size = chunk if remaining is None else min(chunk, remaining)
            data = f.read(size) if size else b""
            if remaining is not None:
                remaining -= len(data)
            if data:
                reader.feed(data)
            while True:
                try:
                    argv = reader.gets()
                except hiredis.ProtocolError as e:
                    raise AofError(
                        f"Bad file format reading the append only file {name} at offset {pos}: {e}"
                    )
                if argv is False:
                    break
                if (
                    type(argv) is not list
                    or not argv
                    or any(type(a) is not bytes for a in argv)
                ):
                    raise AofError(
                        f"Bad file format reading the append only file {name} at offset {pos}: "
                        "not a command"
                    )
                name0 = argv[0].lower()
                if engine.lookup_command(name0) is None:
                    raise AofError(
                        f"Unknown command '{argv[0].decode(errors='replace')}' reading the "
                        f"append only file {name} at offset {pos}"
                    )
                if name0 == b"multi":
                    multi_start = pos
                elif name0 == b"exec":
                    multi_start = -1
                engine.execute(client, argv)
                count += 1
                pos += _cmd_len(argv)
            if not data:
                break
    file_end = start + (os.path.getsize(path) - start if end is None else end - start)
    cut = pos if multi_start < 0 else multi_start
    if cut < file_end:
        what = "MULTI without EXEC" if multi_start >= 0 else "incomplete command"
        if not allow_truncated:
            raise AofError(
                f"Bad file format reading the append only file {name}: {what} at offset {cut} "
                f"(file size {file_end}); fix with redis-check-aof --fix or set aof-load-truncated yes"
            )
        log(
            f"!!! Warning: short read while loading the AOF file {name}: {what} at offset "
            f"{cut}, file size {file_end}. Truncating the AOF at offset {cut} !!!"
        )
        os.truncate(path, cut)
        client.multi = None
    engine.drop_client(client) if hasattr(engine, "drop_client") else None
    return count
