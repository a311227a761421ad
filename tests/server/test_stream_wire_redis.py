"""Stream reads on the wire, byte for byte against Redis 8.2, in RESP2 and RESP3.

The server answers a top-level XRANGE with entries the C accelerator writes
straight to RESP (``RawResp``); inside MULTI/EXEC and scripts, and on the pure
path (STREAMLITE_PURE=1), the same replies are built as values and encoded.
Both must give Redis's bytes.
"""

from __future__ import annotations

from tests.server.conftest import send_raw
from tests.support.redis_proc import ServerProc

from streamlite.protocol.resp import encode_command


def _script(key: bytes) -> bytes:
    cmds: list[list[bytes]] = []
    # two field layouts (the node's master fields and others), long values, integers,
    # deletes (tombstones) and several nodes (small nodes)
    cmds.append([b"CONFIG", b"SET", b"stream-node-max-entries", b"4"])
    for i in range(1, 23):
        if i % 3:
            fields = [b"f", b"v%d" % i, b"n", b"%d" % (i * 1000)]
        else:
            fields = [b"other", b"x" * (i * 9)]
        cmds.append([b"XADD", key, b"%d-%d" % (i // 2 + 1, i), *fields])
    cmds.append([b"XDEL", key, b"2-3", b"5-10", b"6-12", b"6-13"])
    ranges = [
        [b"-", b"+"], [b"-", b"+", b"COUNT", b"1"], [b"-", b"+", b"COUNT", b"5"],
        [b"3", b"7"], [b"3-5", b"3-5"], [b"(3-5", b"+", b"COUNT", b"3"], [b"100", b"+"],
        [b"-", b"+", b"COUNT", b"0"], [b"5", b"2"], [b"6-12", b"6-13"],
    ]
    for rg in ranges:
        cmds.append([b"XRANGE", key, *rg])
        cmds.append([b"XREVRANGE", key, rg[1], rg[0], *rg[2:]])
    cmds.append([b"XRANGE", key + b":missing", b"-", b"+"])
    cmds.append([b"XREAD", b"COUNT", b"3", b"STREAMS", key, b"2-0"])
    cmds.append([b"XREAD", b"STREAMS", key, key + b":missing", b"0", b"0"])
    cmds += [[b"MULTI"], [b"XRANGE", key, b"-", b"+", b"COUNT", b"2"], [b"EXEC"]]
    cmds.append([b"EVAL", b"return redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 3)",
                 b"1", key])
    cmds.append([b"CONFIG", b"SET", b"stream-node-max-entries", b"100"])
    return b"".join(encode_command(c) for c in cmds)


def test_stream_reads_byte_for_byte(sl: ServerProc, redis_server: ServerProc) -> None:
    for proto in (2, 3):
        key = b"wire:%d" % proto
        data = (encode_command([b"HELLO", b"3"]) if proto == 3 else b"") + _script(key)
        ours = send_raw(sl.port, data, wait=1.0)
        theirs = send_raw(redis_server.port, data, wait=1.0)
        if proto == 3:  # HELLO's map differs (server name, version): compare after it
            ours = ours[ours.index(b"+OK\r\n"):]
            theirs = theirs[theirs.index(b"+OK\r\n"):]
        assert b"$3\r\n1-1\r\n$1\r\nf\r\n" not in theirs  # (an entry is [id, [fields]])
        assert b"$3\r\n1-1\r\n*4\r\n$1\r\nf\r\n$2\r\nv1\r\n" in theirs
        assert ours == theirs


def _blocked_xread(port: int, key: bytes, proto: int) -> bytes:
    """XREAD BLOCK on one connection, served by an XADD from another: the reply bytes."""
    import socket
    import time

    a = socket.create_connection(("127.0.0.1", port))
    b = socket.create_connection(("127.0.0.1", port))
    try:
        a.settimeout(10)
        if proto == 3:
            a.sendall(encode_command([b"HELLO", b"3"]) + encode_command([b"PING"]))
            got = b""
            while not got.endswith(b"+PONG\r\n"):  # HELLO's reply read whole
                got += a.recv(65536)
        a.sendall(encode_command([b"XREAD", b"BLOCK", b"10000", b"STREAMS", key, b"$"]))
        time.sleep(0.3)  # parked (no reply before the XADD, so nothing to wait for)
        b.sendall(encode_command([b"XADD", key, b"5-1", b"f", b"v", b"other", b"x" * 70]))
        want_end = b"x" * 70 + b"\r\n"
        out = b""
        while not out.endswith(want_end):
            chunk = a.recv(65536)
            if not chunk:
                break
            out += chunk
        return out
    finally:
        a.close()
        b.close()


def test_blocked_xread_byte_for_byte(sl: ServerProc, redis_server: ServerProc) -> None:
    for proto in (2, 3):
        key = b"wire:block:%d" % proto
        assert _blocked_xread(sl.port, key, proto) == _blocked_xread(redis_server.port, key, proto)
