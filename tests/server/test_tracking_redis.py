"""CLIENT TRACKING (client-side caching) on the server, byte for byte against Redis 8.2.

Each test drives the same steps on connections to Redis and to a streamlite
server. After a step every connection gets a PING barrier (``resp_wire``): what
arrived before the PONG (replies, RESP3 ``invalidate`` pushes, RESP2
``__redis__:invalidate`` messages, BCAST batches sent at the end of the event-loop
turn) must be identical. ``{id1}``-style arguments are replaced by each side's own
client id of that connection.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from tests.diff.resp_wire import RedisWire
from tests.server.conftest import spawn
from tests.support.redis_proc import ServerProc, have_redis, start_redis

pytestmark = pytest.mark.redis

REDIR_BROKEN = b">2\r\n$21\r\ntracking-redir-broken\r\n"


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[ServerProc, ServerProc]]:
    if not have_redis():
        pytest.skip("needs redis-server")
    r = start_redis()
    s = spawn()
    yield r, s
    r.cleanup()
    s.cleanup()


class Side:
    def __init__(self, port: int, protocols: list[int]) -> None:
        self.conns = [RedisWire(port, p) for p in protocols]
        self.ids = []
        for c in self.conns:
            c.send("CLIENT", "ID")
            self.ids.append(int(c._read_one()[1:-2]))
        self.conns[0].send("FLUSHALL")
        self.conns[0]._read_one()
        for c in self.conns:
            c.until_ping()  # the FLUSHALL's own messages, if any

    def step(self, who: int, argv: tuple[Any, ...]) -> list[list[bytes]]:
        args = [str(a).format(**{f"id{i}": x for i, x in enumerate(self.ids)})
                if isinstance(a, str) else a for a in argv]
        c = self.conns[who]
        c.send(*args)
        if str(args[0]).upper() == "MULTI" or getattr(c, "in_multi", False):
            c.in_multi = str(args[0]).upper() not in ("EXEC", "DISCARD")  # type: ignore[attr-defined]
            out = [[c._read_one()]]
        else:
            out = [c.until_ping()]
        out += [x.until_ping() for i, x in enumerate(self.conns) if i != who]
        client_cmd = str(args[0]).upper() == "CLIENT"
        return [[self._ids_out(m) if (client_cmd and n == 0 and j == 0)
                 or m.startswith(REDIR_BROKEN) else m for j, m in enumerate(msgs)]
                for n, msgs in enumerate(out)]

    def _ids_out(self, msg: bytes) -> bytes:
        """Client ids as ``{idN}`` (they differ between servers). Only the messages that
        carry ids are masked (a CLIENT command's reply, ``tracking-redir-broken``), so
        an integer reply that happens to equal an id is compared as it is, whatever
        ids the order of the tests gave the connections."""
        for i, x in enumerate(self.ids):
            msg = msg.replace(b":%d\r\n" % x, b":{id%d}\r\n" % i)
        return msg

    def close(self) -> None:
        for c in self.conns:
            c.close()


def run(servers: tuple[ServerProc, ServerProc], protocols: list[int],
        steps: list[tuple[Any, ...]]) -> None:
    r = Side(servers[0].port, protocols)
    s = Side(servers[1].port, protocols)
    try:
        for n, (who, *argv) in enumerate(steps):
            a, b = r.step(who, tuple(argv)), s.step(who, tuple(argv))
            assert a == b, f"step {n}: conn {who} {argv!r}\n  redis:      {a!r}\n  streamlite: {b!r}"
    finally:
        for side in (r, s):
            side.conns[0].send("FLUSHALL")
            side.close()


WRITE = "redis.call('set', KEYS[1], 'w') return 1"


def test_default_mode_resp3(servers):
    run(servers, [3, 2], [
        (0, "CLIENT", "TRACKING", "ON"),
        (0, "CLIENT", "TRACKINGINFO"),
        (0, "CLIENT", "GETREDIR"),
        (0, "GET", "k"),
        (0, "MGET", "a", "b"),
        (1, "SET", "k", "1"),
        (1, "SET", "k", "2"),  # read once, told once
        (0, "GET", "k"),
        (0, "SET", "k", "3"),  # its own change: told after the reply
        (1, "MSET", "a", "1", "b", "2"),
        (0, "HGET", "h", "f"),
        (1, "HSET", "h", "f", "v"),
        (0, "EXISTS", "x"),
        (1, "DEL", "x"),  # nothing deleted: no change, no message
        (1, "SET", "x", "1"),
        (0, "GET", "e"),
        (1, "SET", "e", "1", "PX", "1"),
        (0, "MULTI",), (0, "GET", "m1"), (0, "SET", "m1", "x"), (0, "EXEC",),
        (0, "EVAL", "return redis.call('get', KEYS[1])", "1", "s1"),
        (1, "SET", "s1", "v"),
        (0, "GET", "s2"),
        (0, "EVAL", WRITE, "1", "s2"),  # its own write in a script: told after the reply
        (0, "EVAL", "redis.call('get', KEYS[1]) " + WRITE, "1", "s3"),  # read, then changed
        (0, "EVAL", "redis.setresp(3) " + WRITE, "1", "s3"),
        (0, "GET", "f"), (1, "FLUSHDB",),
        (0, "CLIENT", "TRACKING", "OFF"),
        (0, "CLIENT", "GETREDIR"),
        (0, "GET", "z"), (1, "SET", "z", "1"),
    ])


def test_noloop_optin_optout(servers):
    run(servers, [3, 3], [
        (0, "CLIENT", "TRACKING", "ON", "NOLOOP"),
        (0, "GET", "k"), (0, "SET", "k", "1"),  # NOLOOP: not told of its own change
        (0, "GET", "k"), (0, "EVAL", WRITE, "1", "k"),  # nor of a script's
        (0, "GET", "k"), (1, "SET", "k", "2"),
        (0, "CLIENT", "TRACKING", "ON", "OPTIN"),
        (0, "CLIENT", "TRACKINGINFO"),
        (0, "CLIENT", "TRACKING", "ON", "OPTOUT"),
        (0, "CLIENT", "TRACKING", "OFF"),
        (0, "CLIENT", "CACHING", "YES"),
        (0, "CLIENT", "TRACKING", "ON", "OPTIN"),
        (0, "CLIENT", "CACHING", "NO"),
        (0, "CLIENT", "CACHING", "maybe"),
        (0, "GET", "a"), (1, "SET", "a", "1"),  # OPTIN without CACHING YES: not tracked
        (0, "CLIENT", "CACHING", "YES"),
        (0, "CLIENT", "TRACKINGINFO"),
        (0, "GET", "a"), (0, "GET", "b"),  # only the first after CACHING YES
        (1, "SET", "a", "2"), (1, "SET", "b", "2"),
        (0, "CLIENT", "TRACKING", "OFF"),
        (0, "CLIENT", "TRACKING", "ON", "OPTOUT"),
        (0, "CLIENT", "CACHING", "YES"),
        (0, "CLIENT", "CACHING", "NO"),
        (0, "GET", "c"), (0, "GET", "d"),  # the first is not tracked
        (1, "SET", "c", "1"), (1, "SET", "d", "1"),
        (0, "CLIENT", "TRACKING", "ON", "OPTIN", "OPTOUT"),
        (0, "CLIENT", "TRACKING", "ON", "BCAST", "OPTIN"),
        (0, "CLIENT", "TRACKING", "ON", "PREFIX", "a"),
        (0, "CLIENT", "TRACKING", "ON", "BCAST"),
        (0, "CLIENT", "TRACKING", "ON", "REDIRECT", "999999"),
        (0, "CLIENT", "TRACKING", "ON", "REDIRECT", "x"),
        (0, "CLIENT", "TRACKING", "ON", "REDIRECT", "{id1}", "REDIRECT", "{id1}"),
        (0, "CLIENT", "TRACKING", "MAYBE"),
        (0, "CLIENT", "TRACKING", "ON", "FOO"),
    ])


def test_bcast_prefixes(servers):
    run(servers, [3, 2], [
        (0, "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:", "PREFIX", "order:"),
        (0, "CLIENT", "TRACKINGINFO"),
        (1, "SET", "user:1", "a"),
        (1, "MSET", "order:2", "x", "order:1", "y", "other", "z"),
        (1, "SET", "other", "q"),
        (0, "SET", "user:9", "mine"),
        (0, "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:x"),
        (0, "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a", "PREFIX", "ab"),
        (0, "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "zz", "NOLOOP"),
        (0, "CLIENT", "TRACKINGINFO"),
        (0, "SET", "zz1", "mine"),
        (1, "SET", "zz2", "theirs"),
        (0, "CLIENT", "TRACKING", "OFF"),
        (0, "CLIENT", "TRACKING", "ON", "BCAST"),
        (1, "SET", "anything", "1"),
        (1, "FLUSHALL",),
    ])


def test_redirect_resp2_pubsub_and_broken(servers):
    run(servers, [2, 2, 3], [
        (1, "SUBSCRIBE", "__redis__:invalidate"),
        (0, "CLIENT", "TRACKING", "ON", "REDIRECT", "{id1}"),
        (0, "CLIENT", "GETREDIR"),
        (0, "CLIENT", "TRACKINGINFO"),
        (0, "GET", "k"),
        (2, "SET", "k", "1"),
        (0, "GET", "k"),
        (0, "SET", "k", "2"),
        (2, "FLUSHALL",),
        (2, "CLIENT", "TRACKING", "ON", "REDIRECT", "{id0}"),
        (2, "GET", "q"),
        (0, "SET", "q", "1"),  # the redirect target is RESP2, not subscribed: nothing
    ])


def test_scripts_of_the_redirect_target_and_resp2(servers):
    """Invalidations caused by a script go by the connections' protocols, not the
    script's (``redis.setresp``): a RESP3 redirect target running the script is told,
    a RESP2 client without redirection is not (whatever the script's protocol)."""
    run(servers, [3, 3, 2], [
        (1, "CLIENT", "TRACKING", "ON", "REDIRECT", "{id0}"),
        (1, "GET", "k"),
        (0, "EVAL", WRITE, "1", "k"),
        (1, "GET", "k"),
        (0, "EVAL", "redis.setresp(3) " + WRITE, "1", "k"),
        (2, "CLIENT", "TRACKING", "ON"),
        (2, "GET", "q"),
        (2, "EVAL", "redis.setresp(3) " + WRITE, "1", "q"),
        (2, "GET", "q"),
        (0, "EVAL", WRITE, "1", "q"),
    ])


def test_redirect_to_a_closed_client(servers):
    """The redirect target goes away: RESP3 hears ``tracking-redir-broken``."""
    got = []
    for srv in servers:
        side = Side(srv.port, [3, 2, 2])
        try:
            side.step(0, ("CLIENT", "TRACKING", "ON", "REDIRECT", str(side.ids[2])))
            side.step(0, ("GET", "k"))
            side.conns[2].close()
            side.conns = side.conns[:2]
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:  # until the server noticed the close
                side.conns[1].send("CLIENT", "LIST", "ID", str(side.ids[2]))
                if side.conns[1]._read_one() == b"$0\r\n\r\n":
                    break
                time.sleep(0.05)
            steps = [side.step(1, ("SET", "k", "1")), side.step(0, ("CLIENT", "TRACKINGINFO"))]
            side.conns[0].send("CLIENT", "LIST", "ID", str(side.ids[0]))
            info = side.conns[0]._read_one()
            flags = info.split(b"flags=")[1].split(b" ")[0]
            redir = info.split(b"redir=")[1].split(b" ")[0]
            got.append((steps, flags, redir == str(side.ids[2]).encode()))
            assert b"tracking-redir-broken" in steps[0][1][0]
        finally:
            side.conns[0].send("FLUSHALL")
            side.close()
    assert got[0] == got[1]


def test_redis_py_client_side_cache(servers):
    """redis-py's own client-side cache (RESP3, CLIENT TRACKING ON) sees a change made
    by another client once the invalidation arrived."""
    import redis
    from redis.cache import CacheConfig

    port = servers[1].port
    reader = redis.Redis(port=port, protocol=3, cache_config=CacheConfig(), socket_timeout=20)
    writer = redis.Redis(port=port, socket_timeout=20)
    try:
        writer.set("ck", "1")
        assert reader.get("ck") == b"1"
        assert reader.get("ck") == b"1"  # from the cache
        writer.set("ck", "2")
        deadline = time.monotonic() + 10
        while reader.get("ck") != b"2" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert reader.get("ck") == b"2"
    finally:
        writer.delete("ck")
        reader.close()
        writer.close()


def test_stream_appends_invalidate(servers):
    """XADD with a generated ID (its inlined path, here run by a script so that the
    reply does not show the ID) tells the stream's readers, as every write does."""
    add = "redis.call('xadd', KEYS[1], '*', 'f', 'v') return 'ok'"
    run(servers, [3, 2], [
        (1, "XADD", "s", "1-1", "f", "v"),
        (0, "CLIENT", "TRACKING", "ON"),
        (0, "XRANGE", "s", "1-1", "1-1"),
        (1, "EVAL", add, "1", "s"),
        (0, "XRANGE", "s", "-", "+", "COUNT", "1"),
        (1, "EVAL", add, "1", "s"),
        (1, "EVAL", add, "1", "s"),  # read once, told once
        (0, "XRANGE", "s", "-", "1-1"),
        (1, "EVAL", add, "1", "s"),
    ])
