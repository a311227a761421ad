"""What EXEC, scripts and functions propagate, against what a real Redis 8.2 writes to its AOF.

The same commands run on a redis-server with ``appendonly yes`` and on the engine
with ``engine.effects`` collected; the AOF's commands and the effects must be the
same commands for the same databases, MULTI/EXEC included (Redis 7+ wraps an
execution unit only when it propagates more than one command). Where SELECT
goes around a MULTI differs and does not matter, so SELECTs are folded into
the database of each command.
"""

from __future__ import annotations

import glob
import os
import socket

import hiredis
import pytest
from tests.diff.resp_wire import split_messages
from tests.engine.standins import Conn, engine_with_standins
from tests.support.redis_proc import have_redis, start_redis

from streamlite.engine import FakeClock
from streamlite.protocol.resp import encode_command

pytestmark = pytest.mark.skipif(not have_redis(), reason="needs redis-server")


@pytest.fixture(scope="module")
def aof_server():
    srv = start_redis(["--appendonly", "yes", "--appendfsync", "always"])
    yield srv
    srv.cleanup()


def _call(sock: socket.socket, reader: hiredis.Reader, argv: list[bytes]) -> object:
    sock.sendall(encode_command(argv))
    while True:
        r = reader.gets()
        if r is not False:
            return r
        reader.feed(sock.recv(1 << 16))


def _aof_commands(path_glob: str) -> list[list[bytes]]:
    data = b""
    for p in sorted(glob.glob(path_glob)):
        with open(p, "rb") as f:
            data += f.read()
    msgs, rest = split_messages(data)
    assert rest == b""
    out = []
    for m in msgs:
        r = hiredis.Reader()
        r.feed(m)
        out.append(r.gets())
    return out


def _fold(cmds: list[list[bytes]]) -> list[tuple[int | None, list[bytes]]]:
    db = 0
    out: list[tuple[int | None, list[bytes]]] = []
    for argv in cmds:
        name = argv[0].upper()
        if name == b"SELECT":
            db = int(argv[1])
        elif name in (b"MULTI", b"EXEC"):
            out.append((None, argv))
        else:
            out.append((db, argv))
    return out


SCENARIOS = {
    "exec with several writes": [
        ["MULTI"], ["SET", "a", "1"], ["GET", "a"], ["INCR", "a"], ["EXEC"],
    ],
    "exec with one write": [["MULTI"], ["SET", "a", "1"], ["GET", "a"], ["EXEC"]],
    "exec without writes": [["MULTI"], ["GET", "a"], ["EXEC"]],
    "exec with select": [
        ["MULTI"], ["SET", "x", "1"], ["SELECT", "4"], ["SET", "y", "1"], ["EXEC"], ["SELECT", "0"],
    ],
    "aborted exec": [["MULTI"], ["SET", "a", "1"], ["NOSUCH"], ["EXEC"]],
    "script with several writes": [
        ["EVAL", "redis.call('set','a','1') redis.call('get','a') redis.call('incr','a')", "0"],
    ],
    "script with one write": [["EVAL", "return redis.call('set','a','2')", "0"]],
    "read-only script": [["EVAL", "return redis.call('get','a')", "0"]],
    "script selecting": [
        ["EVAL", "redis.call('set','a','1') redis.call('select','2') redis.call('set','b','2')", "0"],
    ],
    "script failing after writes": [
        ["EVAL", "redis.call('set','c','1') redis.call('set','d','1') error('x')", "0"],
    ],
    "script inside exec": [
        ["MULTI"], ["EVAL", "redis.call('set','e','1') redis.call('set','f','1')", "0"],
        ["SET", "g", "1"], ["EXEC"],
    ],
    "set_repl none": [
        ["EVAL", "redis.set_repl(redis.REPL_NONE) redis.call('set','h','1')"
                 " redis.set_repl(redis.REPL_ALL) redis.call('set','i','1')", "0"],
    ],
    "function load and fcall": [
        ["FUNCTION", "LOAD", "REPLACE", "#!lua name=plib\nredis.register_function('incr2',"
         " function(k, a) redis.call('incr', k[1]) return redis.call('incr', k[1]) end)"],
        ["FCALL", "incr2", "1", "n"],
        ["FUNCTION", "DELETE", "plib"],
    ],
    "failed write in exec": [["SET", "s", "v"], ["MULTI"], ["LPUSH", "s", "x"], ["SET", "t", "1"],
                             ["EXEC"]],
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_propagation_matches_redis_aof(aof_server, name):
    steps = [[x.encode() for x in s] for s in SCENARIOS[name]]
    sock = socket.create_connection(("127.0.0.1", aof_server.port))
    reader = hiredis.Reader()
    try:
        _call(sock, reader, [b"FLUSHALL"])
        incr = os.path.join(aof_server.dir, "appendonlydir", "*.incr.aof")
        before = len(_aof_commands(incr))
        for argv in steps:
            _call(sock, reader, argv)
        redis_cmds = _aof_commands(incr)[before:]
    finally:
        sock.close()
    eng = engine_with_standins(FakeClock())
    c = Conn(eng)
    eng.effects = []
    for argv in steps:
        c(*argv)
    ours: list[list[bytes]] = []
    db = -1
    for d, argv in eng.effects:  # as the AOF writer writes them
        if d != db:
            ours.append([b"SELECT", b"%d" % d])
            db = d
        ours.append(argv)
    assert _fold(ours) == _fold(redis_cmds)
