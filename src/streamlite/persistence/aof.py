"""The append-only file, in Redis 7's multi-part layout.

``<dir>/<appenddirname>/`` holds a manifest, one base file and the incremental
files written since the base was made::

    appendonly.aof.manifest        file appendonly.aof.2.base.aof seq 2 type b
                                   file appendonly.aof.5.incr.aof seq 5 type i
    appendonly.aof.2.base.aof      the dataset when the base was made (rewrite.py)
    appendonly.aof.5.incr.aof      every write since, as Redis propagates it

Every file is a plain RESP command stream (Redis's AOF format), so
``redis-check-aof`` reads them. The manifest is replaced atomically (write a temp
file, fsync, rename, fsync the directory).

Writing (``AofWriter``): ``feed`` encodes a batch of effects into a buffer;
``write`` appends the buffer with ``os.write``; ``fsync`` is ``fdatasync``. A
failed write leaves the file as it was before the batch (a partial write is cut
off again) and keeps the batch in the buffer, to retry: what happens next is the
manager's decision (``manager.py``).

Loading (``replay``): commands run through the engine with a client flagged as
the AOF's; the file is read in chunks. A truncated tail (an incomplete last
command, or a MULTI without EXEC) is dropped, and cut from the file, when
allowed; anything else that is wrong (not RESP, not a command, an unknown
command, a command that answers an error) raises ``AofError`` naming the file
and the byte offset of the command.
"""

from __future__ import annotations

import contextlib
import errno as _errno
import os
import threading
from collections.abc import Callable
from typing import Any

import hiredis

from ..engine.core import Engine
from ..engine.record import Record
from ..engine.replies import ErrorReply
from ..protocol.resp import encode_command
from .mapped import Mapped as _Mapped  # tests count the mappings through it


class AofError(Exception):
    """The AOF cannot be loaded (corrupt, or truncated where that is not allowed)."""


class AofWriteError(OSError):
    """Writing or fsyncing the AOF failed (``errno``/``strerror`` say why)."""


class AofFile(Record):
    _fields = ("name", "seq", "kind")

    def __init__(self, name: str, seq: int, kind: str) -> None:
        self.name = name
        self.seq = seq
        self.kind = kind  # "b" base, "i" incremental, "h" history


class Manifest(Record):
    _fields = ("files",)

    def __init__(self, files: list[AofFile] | None = None) -> None:
        self.files: list[AofFile] = [] if files is None else files

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
            for f in self.files if f.kind in ("b", "i")
        )

    @classmethod
    def parse(cls, data: bytes, path: str) -> Manifest:
        """Redis's manifest grammar: ``key value`` pairs per line, unknown keys ignored."""
        m = cls()
        if not data.strip():
            raise AofError(f"Found an empty AOF manifest: {path}")
        last_incr = 0
        for n, raw in enumerate(data.splitlines(), 1):
            if raw.startswith(b"#"):
                continue
            line = raw.strip()
            parts = line.split()
            if not line or len(parts) < 6 or len(parts) % 2:
                raise AofError(f"Invalid AOF manifest file format: {path} line {n}")
            kv = {k.lower(): v for k, v in zip(parts[0::2], parts[1::2], strict=True)}
            try:
                af = AofFile(kv[b"file"].decode(), int(kv[b"seq"]), kv[b"type"][:1].decode())
            except (KeyError, ValueError, UnicodeDecodeError):
                raise AofError(f"Invalid AOF manifest file format: {path} line {n}")
            if "/" in af.name or af.name in ("", ".", ".."):
                raise AofError(f"File can't be a path, just a filename: {path} line {n}")
            if af.kind == "b":
                if m.base is not None:
                    raise AofError(f"Found duplicate base file information: {path} line {n}")
            elif af.kind == "i":
                if af.seq <= last_incr:
                    raise AofError(f"Found a non-monotonic sequence number: {path} line {n}")
                last_incr = af.seq
            elif af.kind != "h":
                raise AofError(f"Unknown AOF file type: {path} line {n}")
            m.files.append(af)
        return m


def fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: str, data: bytes) -> None:
    """Replace ``path`` with ``data``: temp file, fsync, rename, fsync the directory."""
    d = os.path.dirname(path) or "."
    tmp = os.path.join(d, f"temp-{os.path.basename(path)}.{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    fsync_dir(d)


class AofWriter:
    """Appends propagated commands to one incremental file."""

    def __init__(self, path: str, fsync_policy: str) -> None:
        self.path = path
        self.fsync_policy = fsync_policy
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.size = os.fstat(self.fd).st_size  # bytes in the file
        self.synced_size = self.size  # bytes known to be on disk
        self._buf: list[bytes] = []
        self._db = -1  # the database the file's last SELECT chose (-1: none yet)
        self._bg: threading.Thread | None = None
        self.bg_error: OSError | None = None  # a background fsync failed
        self.delayed_fsyncs = 0

    # -- buffering --------------------------------------------------------------------

    def feed(self, effects: list[tuple[int, list[bytes]]]) -> None:
        buf = self._buf
        for db, argv in effects:
            if db != self._db:
                buf.append(b"*2\r\n$6\r\nSELECT\r\n$%d\r\n%d\r\n" % (len(str(db)), db))
                self._db = db
            buf.append(encode_command(argv))

    def feed_raw(self, data: bytes) -> None:
        self._buf.append(data)

    @property
    def pending(self) -> int:
        """Bytes buffered, not yet written."""
        return sum(map(len, self._buf))

    @property
    def unsynced(self) -> bool:
        return self.synced_size < self.size

    # -- writing ----------------------------------------------------------------------

    def write(self) -> int:
        """Append the buffer to the file; raises AofWriteError, keeping the buffer."""
        if not self._buf:
            return 0
        data = self._buf[0] if len(self._buf) == 1 else b"".join(self._buf)
        view = memoryview(data)
        done = 0
        try:
            while done < len(data):
                n = os.write(self.fd, view[done:])
                if n <= 0:
                    raise OSError(_errno.ENOSPC, os.strerror(_errno.ENOSPC))
                done += n
        except OSError as e:
            if done:  # a partial write: cut it off again, as Redis does
                try:
                    os.ftruncate(self.fd, self.size)
                    done = 0
                except OSError:  # cannot: keep what went out, retry the rest
                    self.size += done
                    data = data[done:]
            self._buf = [data]
            code = e.errno or _errno.EIO
            raise AofWriteError(code, e.strerror or os.strerror(code)) from None
        self._buf = []
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        """``write``, then fsync under ``always`` (what fronts called before ``commit``)."""
        self.write()
        if self.fsync_policy == "always":
            self.fsync()

    def fsync(self) -> None:
        """fdatasync now (raises AofWriteError)."""
        if self.synced_size >= self.size:
            return
        self.wait_bg()
        size = self.size
        try:
            os.fdatasync(self.fd)
        except OSError as e:
            code = e.errno or _errno.EIO
            raise AofWriteError(code, e.strerror or os.strerror(code)) from None
        self.synced_size = size

    def fsync_in_background(self) -> bool:
        """everysec: fdatasync on a helper thread unless one is still running."""
        if self.synced_size >= self.size:
            return True
        if self._bg is not None and self._bg.is_alive():
            self.delayed_fsyncs += 1
            return False
        size = self.size
        fd = self.fd

        def run() -> None:
            try:
                os.fdatasync(fd)
            except OSError as e:
                self.bg_error = e
                return
            self.bg_error = None
            self.synced_size = max(self.synced_size, size)

        t = threading.Thread(target=run, name="aof-fsync", daemon=True)
        self._bg = t
        t.start()
        return True

    def wait_bg(self) -> None:
        t = self._bg
        if t is not None:
            t.join()
            self._bg = None

    @property
    def bg_fsync_running(self) -> bool:
        return self._bg is not None and self._bg.is_alive()

    def close(self) -> None:
        """Write and fsync what is left, then close (raises AofWriteError)."""
        try:
            self.write()
            self.fsync()
        finally:
            self.wait_bg()
            os.close(self.fd)
            self.fd = -1


# decimal digits of small lengths (len(str(i)) for i in range(10000))
_DIGITS = b"\x01" * 10 + b"\x02" * 90 + b"\x03" * 900 + b"\x04" * 9000


def _cmd_len(argv: list[bytes]) -> int:
    """Bytes of ``argv`` as RESP (``*N``, then ``$len`` and the bytes of each)."""
    lens = list(map(len, argv))
    try:
        digits = sum(map(_DIGITS.__getitem__, lens))
    except IndexError:
        digits = sum(len(str(x)) for x in lens)
    return len(str(len(argv))) + 3 + 5 * len(lens) + sum(lens) + digits


def _has_error(reply: Any) -> ErrorReply | None:
    if type(reply) is ErrorReply:
        return reply
    if type(reply) is list:  # EXEC
        for x in reply:
            if type(x) is ErrorReply:
                return x
    return None


# RESTORE's payload may be given to the command as a view of the file's pages: its
# loader copies what it keeps out of it (serialize, rdbvalue), so the 38 MB payload of a
# million-entry stream is neither read into fresh memory (a page fault per 4 KB) nor
# copied (and _Mapped.close checks that nothing kept a view)
_MAPPED_COMMANDS = (b"restore",)


def _read_whole_command(f: Any, pos: int, big: int = 1 << 16,
                        maps: contextlib.ExitStack | None = None
                        ) -> tuple[list[bytes], int] | None:
    """The command at offset ``pos`` of ``f`` read straight from the file, and the
    offset after it; None if it is not a complete canonical array of bulk strings
    (the caller's hiredis path then reads it, and reports what is wrong).

    With ``maps`` (on POSIX), an argument of ``big`` bytes or more of a command in
    ``_MAPPED_COMMANDS`` is a memoryview of the file's pages (``_Mapped``, entered in
    ``maps``: they are closed as the caller's stack exits, after running the command)."""
    size = os.fstat(f.fileno()).st_size
    f.seek(pos)
    line = f.readline(24)
    if line[:1] != b"*" or line[-2:] != b"\r\n" or not line[1:-2].isdigit():
        return None
    argv: list[Any] = []
    for _ in range(int(line[1:-2])):
        line = f.readline(24)
        if line[:1] != b"$" or line[-2:] != b"\r\n" or not line[1:-2].isdigit():
            return None
        n = int(line[1:-2])
        at = f.tell()
        if n > size - at:  # (a damaged length, not a huge allocation)
            return None
        if (n >= big and maps is not None and argv and os.name == "posix"
                and argv[0].lower() in _MAPPED_COMMANDS):
            arg: Any = maps.enter_context(_Mapped(f, at, n)).view
            f.seek(at + n)
        else:
            arg = f.read(n)  # a big argument: one copy, from the page cache to its bytes
            if len(arg) != n:
                return None
        if f.read(2) != b"\r\n":
            return None
        argv.append(arg)
    end = f.tell()
    return (argv, end) if end - pos == _cmd_len(argv) else None


def replay(
    engine: Engine,
    path: str,
    *,
    allow_truncated: bool,
    log: Callable[[str], None],
    chunk: int = 1 << 16,  # hiredis moves the unread rest of its buffer every ~1 KB
                           # parsed: a big feed makes parsing quadratic (4 MB: 8x slower)
    progress: Callable[[int], None] | None = None,
) -> int:
    """Execute the commands of one AOF-format file; return the count executed.

    hiredis parses the file chunk by chunk; a command still incomplete after more
    than a chunk (a base's RESTORE of a big key: 38 MB for a stream of a million
    entries) is read straight from the file instead, which spares hiredis's buffer
    growing by copies and the copy of the payload out of it (a third of the load);
    a RESTORE's payload is not even read but mapped (``_MAPPED_COMMANDS``)."""
    name = os.path.basename(path)
    client = engine.client()
    client.is_master = True
    client.loading = True
    reader = hiredis.Reader()
    pos = 0  # offset of the next command to parse
    fed = 0  # offset of the next byte to read from the file
    not_whole = -1  # the offset _read_whole_command could not read a command at
    multi_start = -1
    count = 0
    lookup = engine.lookup_command
    execute = engine.execute

    def run(argv: list[bytes], mapped: bool = False) -> None:
        nonlocal multi_start
        if type(argv) is not list or not argv or (not mapped and any(
                type(a) is not bytes for a in argv)):
            raise AofError(
                f"Bad file format reading the append only file {name} at offset "
                f"{pos}: not a command"
            )
        cmd = lookup(argv[0])
        if cmd is None:
            raise AofError(
                f"Unknown command '{argv[0][:64].decode(errors='replace')}' reading "
                f"the append only file {name} at offset {pos}"
            )
        if cmd.name == "multi":
            if multi_start >= 0:
                raise AofError(f"Unexpected MULTI in the append only file {name} "
                               f"at offset {pos}")
            multi_start = pos
        elif cmd.name == "exec":
            if multi_start < 0:
                raise AofError(f"Unexpected EXEC in the append only file {name} "
                               f"at offset {pos}")
            multi_start = -1
        err = _has_error(execute(client, argv))
        if err is not None:
            raise AofError(
                f"Error replaying the append only file {name} at offset {pos}: "
                f"'{argv[0][:64].decode(errors='replace')}' failed with "
                f"{err.decode(errors='replace')}"
            )

    try:
        with open(path, "rb") as f:
            while True:
                if fed - pos > chunk and pos != not_whole:
                    # a big command: read it whole, then go on after it
                    # (not inside MULTI: a queued argv outlives the mapping)
                    with contextlib.ExitStack() as maps:
                        whole = _read_whole_command(f, pos, chunk,
                                                    maps if multi_start < 0 else None)
                        if whole is not None:
                            # (its arguments: bytes, or views of mapped pages)
                            run(whole[0], mapped=True)
                    if whole is not None:
                        count += 1
                        pos = whole[1]
                        if progress is not None:
                            progress(pos - fed)
                        fed = pos
                        reader = hiredis.Reader()
                        continue
                    not_whole = pos  # hiredis goes on with it (a truncated tail)
                    f.seek(fed)
                data = f.read(chunk)
                if data:
                    reader.feed(data)
                    fed += len(data)
                while True:
                    try:
                        argv = reader.gets()
                    except hiredis.ProtocolError as e:
                        raise AofError(
                            f"Bad file format reading the append only file {name} at offset "
                            f"{pos}: {e}"
                        )
                    if argv is False:
                        break
                    run(argv)
                    count += 1
                    pos += _cmd_len(argv)
                if not data:
                    break
                if progress is not None:
                    progress(len(data))
        file_end = os.path.getsize(path)
        cut = pos if multi_start < 0 else multi_start
        if cut < file_end:
            what = "MULTI without EXEC" if multi_start >= 0 else "incomplete command"
            if not allow_truncated:
                raise AofError(
                    f"Unexpected end of file reading the append only file {name}: {what} at "
                    f"offset {cut} (file size {file_end}). You can: 1) make a backup of the AOF, "
                    f"then run redis-check-aof --fix <manifest>; 2) set aof-load-truncated yes"
                )
            log(f"!!! Warning: short read while loading the AOF file {name} ({what} at offset "
                f"{cut}, file size {file_end})!!!")
            log(f"!!! Truncating the AOF {name} at offset {cut} !!!")
            os.truncate(path, cut)
            client.multi = None
    finally:
        engine.drop_client(client)
    return count
