"""ACL against a real Redis 8.2, side by side: every ACL subcommand's replies and
errors, how users are described (ACL LIST/GETUSER) after every kind of rule, and a
table test over the whole command table (every command and subcommand both servers
have, checked with ACL DRYRUN for users with ``-@all``, ``+@read``, each category,
key patterns ``~`` ``%R~`` ``%W~`` and channel patterns ``&``), then the denials as
clients meet them (NOPERM texts, MULTI/EXEC, scripts) and the ACL LOG entries.

Redis runs in its own process here (ACL changes would leak into the shared one).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.diff import EngineConn, RedisConn
from tests.support.redis_proc import ServerProc, start_redis

from streamlite.engine import Engine, FakeClock

pytestmark = [pytest.mark.redis, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def redis_acl() -> Iterator[ServerProc]:
    srv = start_redis([])
    yield srv
    srv.cleanup()


@pytest.fixture
def pair(redis_acl: ServerProc) -> Iterator[tuple[RedisConn, EngineConn]]:
    """A Redis connection and an engine client, users wiped on the Redis side."""
    rc = RedisConn(redis_acl.port)
    _wipe(rc)
    rc.call("ACL", "LOG", "RESET")
    rc.call("CONFIG", "RESETSTAT")
    rc.call("FLUSHALL")
    yield rc, EngineConn(Engine(FakeClock()))
    rc.close()


def _wipe(rc: RedisConn) -> None:
    """Redis back to the default user alone (the module shares one server)."""
    rc.call("ACL", "SETUSER", "default", "reset", "on", "nopass", "~*", "&*", "+@all")
    for name in rc.call("ACL", "USERS"):
        if name != b"default":
            rc.call("ACL", "DELUSER", name)


def both(rc: Any, ec: Any, script: list[tuple[Any, ...]], norm: Any = lambda v: v) -> None:
    for i, cmd in enumerate(script):
        a = norm(rc.call(*cmd))
        b = norm(ec.call(*cmd))
        assert a == b, f"step {i}: {cmd!r}\n  redis:      {a!r}\n  streamlite: {b!r}"


# -- SETUSER and how users are described ------------------------------------------------

RULE_CASES: list[tuple[str, ...]] = [
    ("on", ">p1", "~k*", "%R~r*", "%W~w*", "%RW~x*", "&ch*", "+get", "+@hash", "-hset",
     "+client|id", "+select|0", "(+set ~s*)"),
    ("+@all", "-@dangerous"), ("-@all", "+@read", "-get", "+@write"),
    ("+get", "-get"), ("+get", "+set", "+get"), ("+client", "-client|id", "+client|id"),
    ("+@all", "-client|kill", "+client"), ("+client|id", "+client"),
    ("+select|0", "+select|1", "-select"), ("+GET", "+@HASH"),
    ("allcommands", "-get", "nocommands", "+set"), ("+get|x|y",), ("+client|id|x",),
    ("+nosuch",), ("+@nosuch",), ("-nosuch",), ("-select|0",), ("~a*", "allkeys", "~b"),
    ("allkeys", "~b"), ("&*", "&b"), ("%X~a",), ("%~a",), ("%RR~a",), ("%R",), ("%W~",),
    ("#abc",), ("<nopass",), ("!" + "0" * 64,), ("#" + "A" * 64,), ("#" + "a" * 64, "!" + "a" * 64),
    ("(~a", "+get"), ("(~a", "+get)", "(+set", "~b)"), ("~a", "~a", "%R~a", "%W~b", "~b"),
    ("%W~a", "%W~a", "%R~a", "%RW~b", "%WR~c", "%rw~d"), ("nopass", ">x"), (">x", "nopass"),
    ("reset",), ("on", ">p1", ">p2", "<p1"), ("+select|",), ("clearselectors",),
    ("(~a)", "clearselectors"), ("skip-sanitize-payload",), ("+debug|object",),
    ("+@string", "-@write"), ("-@write", "+@string"), ("foo",), ("~a b",), ("&a b",),
    ("", "on", ""), ("(", "~a", ")"), ("( ~a +get )",), ('(~a "+get")',), ("()",),
    ("+config|get", "-config"), ("+config", "-config|get", "+config|get"), ("resetkeys",),
    ("~a", "resetkeys", "~b"), ("&a", "resetchannels", "&b"), ("allchannels",), ("&a", "&a"),
    ("on", "off"), ("+@all", "-@all"), ("+@pubsub", "-publish", "+@keyspace"), ("on", "(",),
    ("(+get", "(+set)"), ("+acl|whoami", "+acl|cat"), ("-acl", "+acl"), ("+@all", "(", "~x)"),
    ("sanitize-payload", "skip-sanitize-payload", "sanitize-payload"), ("+@connection",),
    ("+@scripting", "-eval"), ("+xadd", "~orders:*"), ("+@stream", "-@write", "+xack"),
]


def test_setuser_rules_and_descriptions(pair):
    rc, ec = pair
    for protocol in (2, 3):
        if protocol == 3:
            rc.call("HELLO", "3")
            ec.client.protocol = 3
        for i, rules in enumerate(RULE_CASES):
            name = f"u{protocol}_{i}"
            both(rc, ec, [("ACL", "SETUSER", name, *rules), ("ACL", "GETUSER", name)])
            # a second application to an existing user (merging rules)
            both(rc, ec, [("ACL", "SETUSER", name, *rules), ("ACL", "GETUSER", name)])
        both(rc, ec, [("ACL", "LIST"), ("ACL", "USERS")])


def test_acl_subcommands_and_errors(pair):
    rc, ec = pair
    both(rc, ec, [
        ("ACL",), ("ACL", "HELP"), ("ACL", "HELP", "x"), ("ACL", "NOSUCH"), ("ACL", "WHOAMI"),
        ("ACL", "WHOAMI", "x"), ("ACL", "USERS"), ("ACL", "USERS", "x"), ("ACL", "LIST", "x"),
        ("ACL", "CAT"), ("ACL", "CAT", "nosuch"), ("ACL", "CAT", "a", "b"),
        ("ACL", "GETUSER"), ("ACL", "GETUSER", "nope"), ("ACL", "GETUSER", "a", "b"),
        ("ACL", "GETUSER", "default"), ("ACL", "SETUSER"), ("ACL", "SETUSER", "a b"),
        ("ACL", "SETUSER", b"a\x00b"), ("ACL", "SETUSER", "x"), ("ACL", "DELUSER"),
        ("ACL", "DELUSER", "default"), ("ACL", "DELUSER", "x", "default"),
        ("ACL", "DELUSER", "x", "x", "nope"), ("ACL", "SETUSER", "x"), ("ACL", "SETUSER", "y"),
        ("ACL", "DELUSER", "x", "nope", "y"), ("ACL", "USERS"),
        ("ACL", "GENPASS", "0"), ("ACL", "GENPASS", "4097"), ("ACL", "GENPASS", "x"),
        ("ACL", "GENPASS", "-1"), ("ACL", "GENPASS", "1", "2"),
        ("ACL", "LOG", "x"), ("ACL", "LOG", "-1"), ("ACL", "LOG", "0"), ("ACL", "LOG", "1", "2"),
        ("ACL", "LOG"), ("ACL", "LOG", "RESET"), ("ACL", "LOG", "reset"),
        ("ACL", "LOAD"), ("ACL", "SAVE"), ("ACL", "LOAD", "x"), ("ACL", "SAVE", "x"),
        ("ACL", "DRYRUN"), ("ACL", "DRYRUN", "default"), ("ACL", "DRYRUN", "default", "get"),
        ("ACL", "DRYRUN", "nope", "get", "k"), ("ACL", "DRYRUN", "default", "nocmd", "k"),
        ("ACL", "DRYRUN", "default", "get", "k"), ("ACL", "DRYRUN", "default", "get", "k", "x"),
        ("ACL", "DRYRUN", "default", "client", "nosub"), ("ACL", "DRYRUN", "default", "client", "id"),
        ("AUTH", "x"), ("AUTH", "a", "b", "c"), ("AUTH", "nope", "x"), ("AUTH", "default", "x"),
    ])
    for bits, n in (("1", 1), ("4", 1), ("5", 2), ("256", 64), ("4096", 1024)):
        for conn in (rc, ec):
            out = conn.call("ACL", "GENPASS", bits)
            assert len(out) == n and all(ch in b"0123456789abcdef" for ch in out)
    assert len(rc.call("ACL", "GENPASS")) == len(ec.call("ACL", "GENPASS")) == 64
    for cat in rc.call("ACL", "CAT"):
        a = set(rc.call("ACL", "CAT", cat))
        b = set(ec.call("ACL", "CAT", cat))
        ours = {n for n in b if n in _both_commands(rc, ec)}
        theirs = {n for n in a if n in _both_commands(rc, ec)}
        assert ours == theirs, (cat, theirs ^ ours)


_COMMANDS: set[bytes] = set()


def _both_commands(rc: Any, ec: Any) -> set[bytes]:
    """Full names (``get``, ``client|id``) of the commands both servers have."""
    if not _COMMANDS:
        def names(info: Any) -> set[bytes]:
            out = set()
            for e in info:  # a container is known by its shape (LATENCY may be plain here)
                out.add(e[0] + (b"|" if e[9] else b""))
                out |= {s[0] for s in e[9]}
            return out
        _COMMANDS.update(names(rc.call("COMMAND")) & names(ec.call("COMMAND")))
    return _COMMANDS


def _command_table(rc: Any, ec: Any) -> list[tuple[bytes, int]]:
    out = []
    for e in rc.call("COMMAND"):
        if e[0] + (b"|" if e[9] else b"") not in _both_commands(rc, ec):
            continue
        for name, arity in [(e[0], e[1])] + [(s[0], s[1]) for s in e[9]]:
            if name in _both_commands(rc, ec) or name == e[0]:
                out.append((name, arity))
    return sorted(out)


def _argv(name: bytes, arity: int, fill: bytes) -> list[bytes]:
    parts = name.split(b"|")
    n = arity if arity > 0 else -arity
    return parts + [fill] * (n - len(parts))


# -- the table test over the command table -------------------------------------------------

TABLE_USERS: dict[str, tuple[str, ...]] = {
    "none": ("on", "nopass", "-@all", "~*", "&*"),
    "reader": ("on", "nopass", "+@read", "~*", "&*"),
    "writer_no_dangerous": ("on", "nopass", "+@write", "-@dangerous", "~*", "&*"),
    "all_but_admin": ("on", "nopass", "+@all", "-@admin", "~*", "&*"),
    "rkeys": ("on", "nopass", "+@all", "%R~r*", "&*"),
    "wkeys": ("on", "nopass", "+@all", "%W~w*", "&*"),
    "rwkeys": ("on", "nopass", "+@all", "~x*", "%R~w*", "&*"),
    "channels": ("on", "nopass", "+@all", "~*", "&ch*", "&pat?"),
    "selectors": ("on", "nopass", "+@read", "%R~r*", "(+@write %W~w*)", "(+@all ~x* &*)"),
    "firstarg": ("on", "nopass", "-@all", "+select|0", "+client|id", "+config|get", "~*"),
}


def test_command_table_permissions(pair):
    """Every command of the table, for users of each kind, judged the same way as
    Redis 8.2 judges it (ACL DRYRUN runs the same check as a client's command)."""
    rc, ec = pair
    for user, rules in TABLE_USERS.items():
        both(rc, ec, [("ACL", "SETUSER", user, *rules)])
    for cat in rc.call("ACL", "CAT"):
        both(rc, ec, [("ACL", "SETUSER", f"cat_{cat.decode()}", "on", "-@all", f"+@{cat.decode()}",
                       "~*", "&*")])
    users = list(TABLE_USERS) + [f"cat_{c.decode()}" for c in rc.call("ACL", "CAT")]
    mismatches = []
    table = _command_table(rc, ec)
    assert len(table) > 300
    for name, arity in table:
        for fill in (b"r1", b"w1", b"x1", b"ch1", b"1"):
            argv = _argv(name, arity, fill)
            for user in users:
                if fill not in (b"r1", b"1") and user.startswith("cat_"):
                    continue
                cmd = ("ACL", "DRYRUN", user, *argv)
                a, b = rc.call(*cmd), ec.call(*cmd)
                if a != b:
                    mismatches.append((user, argv, a, b))
    byname: dict[bytes, int] = {}
    for m in mismatches:
        byname[b"|".join(m[1][:2])] = byname.get(b"|".join(m[1][:2]), 0) + 1
    assert not mismatches, "\n".join(map(repr, mismatches[:40])) + f"\n{len(mismatches)} in all" \
        + f"\n{byname}"


def test_minus_all_runs_nothing_plus_read_only_reads(pair):
    """Run (not dry-run) every command as a ``-@all`` user: each is refused with the
    same NOPERM as Redis (AUTH and HELLO, which need no auth, excepted); the same for
    a ``+@read`` user on every command that is not a read."""
    rc, ec = pair
    for conn in (rc, ec):
        conn.call("ACL", "SETUSER", "none", "on", ">pw", "-@all", "~*", "&*")
        conn.call("ACL", "SETUSER", "reader", "on", ">pw", "+@read", "~*", "&*")
    skip = {b"auth", b"hello", b"quit", b"reset", b"shutdown", b"debug", b"monitor", b"sync",
            b"psync", b"subscribe", b"psubscribe", b"ssubscribe"}
    table = _command_table(rc, ec)
    reads = set(rc.call("ACL", "CAT", "read"))
    for user in ("none", "reader"):
        rc2 = RedisConn(rc.sock.getpeername()[1])
        ec2 = EngineConn(ec.engine)
        both(rc2, ec2, [("AUTH", user, "pw")])
        for name, arity in table:
            if name.split(b"|")[0] in skip or (user == "reader" and name in reads):
                continue
            both(rc2, ec2, [tuple(_argv(name, arity, b"k1"))])
        rc2.close()


# -- denials as clients meet them ----------------------------------------------------------

def _log_norm(v: Any) -> Any:
    """ACL LOG entries without what differs between processes (times, ids, addresses)."""
    if isinstance(v, list) and v and isinstance(v[0], (list, dict)):
        return [_log_norm(x) for x in v]
    if isinstance(v, list) and len(v) % 2 == 0 and b"client-info" in v[::2]:
        v = dict(zip(v[::2], v[1::2], strict=True))
    if isinstance(v, dict) and b"client-info" in v:
        out = dict(v)
        for k in (b"age-seconds", b"timestamp-created", b"timestamp-last-updated", b"entry-id"):
            out.pop(k)
        info = dict(f.split(b"=", 1) for f in out.pop(b"client-info").split(b" "))
        out[b"client"] = (info[b"cmd"], info[b"user"], info[b"db"], info[b"multi"])
        return out
    return v


def test_denials_log_multi_and_scripts(pair):
    rc, ec = pair
    before = _acl_stats(rc)
    setup = [
        ("ACL", "SETUSER", "w", "on", ">pw", "~a*", "%R~r*", "%W~w*", "&ch", "+get", "+set",
         "+publish", "+subscribe", "+psubscribe", "+multi", "+exec", "+eval", "+evalsha",
         "+acl|log", "+lpush", "+hello", "+acl|whoami", "+client|getname"),
        ("SET", "r1", "v"),
    ]
    both(rc, ec, setup)
    rc2, ec2 = RedisConn(rc.sock.getpeername()[1]), EngineConn(ec.engine)
    both(rc2, ec2, [
        ("AUTH", "w", "bad"), ("AUTH", "nobody", "x"), ("auth", "w", "bad"),
        ("HELLO", "2", "AUTH", "w", "bad"), ("AUTH", "w", "pw"), ("ACL", "WHOAMI"),
        ("GET", "b"), ("GET", "r1"), ("GET", "w1"), ("SET", "r1", "x"), ("SET", "w1", "x"),
        ("SET", "w1", "x", "GET"), ("SET", "a1", "x", "GET"), ("LPUSH", "w2", "x"),
        ("PUBLISH", "chx", "m"), ("PUBLISH", "ch", "m"), ("DEL", "a"), ("CLIENT", "GETNAME"),
        ("CLIENT", "KILL", "ID", "1"),
        ("EVAL", "return redis.call('get','b')", "0"),
        ("EVAL", "return redis.pcall('get','b')", "0"),
        ("EVAL", "return redis.call('del','a')", "0"),
        ("EVAL", "return redis.call('get','a1')", "0"),
        ("EVAL", "return {redis.acl_check_cmd('get','a'), redis.acl_check_cmd('get','b'),"
                 " redis.acl_check_cmd('del','a')}", "0"),
        ("EVAL", "return redis.acl_check_cmd('nosuch')", "0"),
        ("MULTI",), ("GET", "a1"), ("GET", "b"), ("DEL", "a"), ("EXEC",),
        ("MULTI",), ("GET", "a1"), ("SET", "a2", "x"), ("EXEC",),
        ("ACL", "LOG", "100"),
    ], norm=_log_norm)
    # rules changed between MULTI and EXEC
    both(rc2, ec2, [("MULTI",), ("GET", "a1"), ("PUBLISH", "ch", "x"), ("SET", "a1", "v")])
    both(rc, ec, [("ACL", "SETUSER", "w", "-get", "resetchannels", "resetkeys", "~w*")])
    both(rc2, ec2, [("EXEC",)])
    both(rc, ec, [("ACL", "LOG", "3")], norm=_log_norm)
    rc2.close()

    # INFO's counters (Redis's since this test began: they survive CONFIG RESETSTAT)
    after = _acl_stats(rc)
    assert {k: after[k] - before[k] for k in after} == _acl_stats(ec)
    rc.call("CONFIG", "RESETSTAT")
    ec.call("CONFIG", "RESETSTAT")
    assert _acl_stats(rc) == after and _acl_stats(ec) == {k: after[k] - before[k] for k in after}


def _acl_stats(conn: Any) -> dict[str, int]:
    lines = conn.call("INFO", "stats").decode().split("\r\n")
    return {k: int(v) for k, v in (ln.split(":") for ln in lines if ln.startswith("acl_"))}


def test_subscribe_checks(pair):
    rc, ec = pair
    both(rc, ec, [("ACL", "SETUSER", "s", "on", ">pw", "+@all", "~*", "&news.*", "&lit")])
    for sub in (("SUBSCRIBE", "news.a", "lit"), ("SUBSCRIBE", "news.a", "other"),
                ("PSUBSCRIBE", "news.*"), ("PSUBSCRIBE", "news.a*"), ("PSUBSCRIBE", "lit"),
                ("SSUBSCRIBE", "x"), ("PUBLISH", "news.x", "m"), ("SPUBLISH", "lit", "m")):
        rc2, ec2 = RedisConn(rc.sock.getpeername()[1]), EngineConn(ec.engine)
        both(rc2, ec2, [("AUTH", "s", "pw"), sub])
        rc2.close()
        ec.engine.drop_client(ec2.client)


def test_default_user_password_and_requirepass(pair):
    rc, ec = pair
    both(rc, ec, [
        ("CONFIG", "SET", "requirepass", "s3cret"), ("ACL", "LIST"),
        ("ACL", "SETUSER", "default", ">other"), ("ACL", "GETUSER", "default"),
        ("CONFIG", "SET", "requirepass", ""), ("ACL", "LIST"),
        ("ACL", "SETUSER", "default", "resetpass", ">pw2"),
    ])
    rc2, ec2 = RedisConn(rc.sock.getpeername()[1]), EngineConn(ec.engine)
    both(rc2, ec2, [("GET", "x"), ("AUTH", "pw2"), ("ACL", "WHOAMI"), ("AUTH", "default", "bad"),
                    ("ACL", "WHOAMI")])
    both(rc, ec, [("ACL", "SETUSER", "default", "off")])
    rc3, ec3 = RedisConn(rc.sock.getpeername()[1]), EngineConn(ec.engine)
    both(rc3, ec3, [("PING",), ("AUTH", "pw2"), ("HELLO", "2", "AUTH", "default", "pw2")])
    both(rc, ec, [("ACL", "SETUSER", "default", "on", "nopass"), ("ACL", "LOG", "2")],
         norm=_log_norm)
    for conn in (rc2, rc3):
        conn.close()


def test_sort_patterns_need_full_key_access(pair):
    rc, ec = pair
    both(rc, ec, [("RPUSH", "k", "2", "1"),
                  ("ACL", "SETUSER", "full", "on", ">x", "+@all", "~k*", "%R~*"),
                  ("ACL", "SETUSER", "limited", "on", ">x", "+@all", "%W~*", "~k*"),
                  ("ACL", "SETUSER", "sel", "on", ">x", "+@all", "~k*", "(+sort ~*)")])
    for user in ("full", "limited", "sel"):
        rc2, ec2 = RedisConn(rc.sock.getpeername()[1]), EngineConn(ec.engine)
        both(rc2, ec2, [("AUTH", user, "x"), ("SORT", "k", "BY", "w_*"), ("SORT", "k", "BY", "nosort"),
                        ("SORT", "k", "GET", "#"), ("SORT_RO", "k", "GET", "x_*"),
                        ("SORT", "k", "BY", "nosort", "GET", "#", "LIMIT", "0", "1"),
                        ("SORT", "k", "FOO", "GET", "#")])
        rc2.close()


def test_acl_pubsub_default(pair):
    """New users, selectors and ``reset`` take their channels from acl-pubsub-default."""
    rc, ec = pair
    try:
        both(rc, ec, [
            ("CONFIG", "SET", "acl-pubsub-default", "allchannels"),
            ("ACL", "SETUSER", "p1", "(+get)"), ("ACL", "SETUSER", "p2", "&x", "reset"),
            ("ACL", "SETUSER", "p3", "resetchannels", "&a"), ("ACL", "LIST"),
            ("CONFIG", "SET", "acl-pubsub-default", "resetchannels"),
            ("ACL", "SETUSER", "p4"), ("ACL", "SETUSER", "p1", "reset"), ("ACL", "LIST"),
        ])
    finally:
        rc.call("CONFIG", "SET", "acl-pubsub-default", "resetchannels")


MOVABLE = [
    ("XREAD", "COUNT", "1", "STREAMS", "r1", "w1", "0", "0"),
    ("XREAD", "STREAMS", "r1", "0"), ("XREAD", "STREAMS"), ("XREAD", "r1", "STREAMS"),
    ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "r1", "x1", ">", ">"),
    ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "w1", ">"),
    ("ZUNIONSTORE", "w1", "2", "r1", "x1"), ("ZUNIONSTORE", "x1", "2", "r1", "w1", "WEIGHTS", "1", "2"),
    ("ZUNIONSTORE", "w1", "0", "r1"), ("ZUNIONSTORE", "w1", "x", "r1"), ("ZINTER", "2", "r1", "w1"),
    ("ZUNIONSTORE", "w1", "3", "r1"), ("ZDIFF", "1", "w1"), ("ZINTERCARD", "2", "r1", "x1"),
    ("EVAL", "return 1", "2", "r1", "w1", "a"), ("EVAL", "return 1", "0", "r1"),
    ("EVAL_RO", "return 1", "1", "w1"), ("FCALL", "f", "1", "w1"), ("FCALL_RO", "f", "1", "r1"),
    ("LMPOP", "2", "w1", "x1", "LEFT"), ("LMPOP", "1", "r1", "LEFT"), ("BLMPOP", "0", "1", "x1", "LEFT"),
    ("ZMPOP", "1", "w1", "MIN"), ("BZMPOP", "0", "1", "r1", "MIN"), ("SINTERCARD", "2", "r1", "w1"),
    ("SORT", "r1"), ("SORT", "r1", "STORE", "w1"), ("SORT", "x1", "STORE", "r1"), ("SORT_RO", "r1"),
    ("SORT", "r1", "BY", "nosort", "STORE", "x1"),
    ("GEORADIUS", "r1", "0", "0", "1", "km", "STORE", "w1"), ("GEORADIUS", "r1", "0", "0", "1", "km"),
    ("GEORADIUS", "x1", "0", "0", "1", "km", "STOREDIST", "r1"),
    ("GEORADIUSBYMEMBER", "r1", "m", "1", "km", "STORE", "x1"), ("GEOSEARCHSTORE", "w1", "r1", "FROMMEMBER", "m", "BYRADIUS", "1", "km"),
    ("BITFIELD", "r1", "GET", "u8", "0"), ("BITFIELD", "w1", "SET", "u8", "0", "1"),
    ("BITFIELD", "x1", "INCRBY", "u8", "0", "1"), ("BITFIELD_RO", "r1", "GET", "u8", "0"),
    ("SET", "w1", "v"), ("SET", "w1", "v", "GET"), ("SET", "r1", "v", "get"), ("SET", "x1", "v", "NX", "GET"),
    ("MSET", "w1", "v", "r1", "v"), ("MSETNX", "w1", "v"), ("MGET", "r1", "w1"), ("DEL", "w1", "x1"),
    ("RENAME", "x1", "w1"), ("RENAME", "r1", "w1"), ("COPY", "r1", "w1"), ("COPY", "x1", "r1"),
    ("LMOVE", "x1", "w1", "LEFT", "RIGHT"), ("SMOVE", "r1", "x1", "m"), ("GETDEL", "x1"), ("GETEX", "r1"),
    ("EXISTS", "r1", "w1", "x1"), ("TYPE", "w1"), ("OBJECT", "ENCODING", "w1"), ("MEMORY", "USAGE", "w1"),
    ("XADD", "w1", "*", "a", "b"), ("XADD", "r1", "*", "a", "b"), ("XACK", "w1", "g", "0-1"),
    ("XAUTOCLAIM", "w1", "g", "c", "0", "0"), ("XGROUP", "CREATE", "w1", "g", "0"),
    ("XINFO", "STREAM", "r1"), ("XRANGE", "r1", "-", "+"), ("PFMERGE", "w1", "r1"), ("PFCOUNT", "r1", "w1"),
    ("WATCH", "r1", "w1"), ("TOUCH", "w1"), ("UNLINK", "x1"), ("RESTORE", "w1", "0", "x"),
    ("DUMP", "r1"), ("LCS", "r1", "w1"), ("HSETEX", "w1", "FIELDS", "1", "f", "v"),
    ("HGETEX", "r1", "FIELDS", "1", "f"), ("HGETDEL", "x1", "FIELDS", "1", "f"),
]


def test_movable_and_variable_keys(pair):
    """Key permissions for commands whose keys move (keyword and key-count specs, EVAL,
    SORT STORE, GEORADIUS STORE) or whose flags vary (SET GET, BITFIELD), as Redis."""
    rc, ec = pair
    users = {k: v for k, v in TABLE_USERS.items()
             if k in ("rkeys", "wkeys", "rwkeys", "selectors")}
    for user, rules in users.items():
        both(rc, ec, [("ACL", "SETUSER", user, *rules)])
    both(rc, ec, [("ACL", "DRYRUN", user, *cmd) for cmd in MOVABLE for user in users])


def test_exec_and_discard_refused(pair):
    rc, ec = pair
    both(rc, ec, [("ACL", "SETUSER", "m", "on", ">x", "+multi", "+get", "~*", "+acl|log")])
    rc2, ec2 = RedisConn(rc.sock.getpeername()[1]), EngineConn(ec.engine)
    both(rc2, ec2, [("AUTH", "m", "x"), ("MULTI",), ("GET", "a"), ("SET", "a", "b"), ("EXEC",),
                    ("MULTI",), ("DISCARD",), ("GET", "a"), ("ACL", "LOG", "2")], norm=_log_norm)
    rc2.close()


_RULES = st.sampled_from([
    "on", "off", "nopass", "resetpass", ">p1", ">p2", "<p1", "reset", "allkeys", "resetkeys",
    "~k*", "~k1", "%R~r*", "%W~w*", "%RW~x?", "&ch*", "&c1", "allchannels", "resetchannels",
    "+@all", "-@all", "allcommands", "nocommands", "+@read", "-@read", "+@write", "-@write",
    "+@hash", "-@string", "+@admin", "-@dangerous", "+get", "-get", "+set", "-set", "+client",
    "-client", "+client|id", "-client|kill", "+config|get", "+select|0", "+select|1", "-select",
    "+debug|object", "+xadd", "+publish", "+subscribe", "(+get ~s*)", "(+@write %W~w*)",
    "(-@all +set &c*)", "clearselectors", "skip-sanitize-payload", "sanitize-payload", "+nosuch",
    "%X~a", "~a b",
])
_PROBES = [("GET", "k1"), ("GET", "r1"), ("SET", "w1", "v"), ("SET", "x1", "v", "GET"),
           ("HSET", "k1", "f", "v"), ("CLIENT", "ID"), ("CLIENT", "KILL", "ID", "1"),
           ("CONFIG", "GET", "x"), ("SELECT", "0"), ("SELECT", "1"), ("PUBLISH", "ch1", "m"),
           ("SUBSCRIBE", "c1", "ch2"), ("PSUBSCRIBE", "ch*"), ("XADD", "s1", "*", "a", "b"),
           ("DEL", "k1", "w1"), ("FLUSHALL",), ("RENAME", "x1", "w1"), ("DEBUG", "OBJECT", "k1")]


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(script=st.lists(st.lists(_RULES, min_size=0, max_size=6), min_size=1, max_size=4))
def test_random_rule_sequences(redis_acl, script):
    """Random SETUSER sequences: the same replies, descriptions and verdicts."""
    rc = RedisConn(redis_acl.port)
    ec = EngineConn(Engine(FakeClock()))
    _wipe(rc)
    try:
        for rules in script:
            both(rc, ec, [("ACL", "SETUSER", "rnd", *rules), ("ACL", "GETUSER", "rnd")])
        both(rc, ec, [("ACL", "DRYRUN", "rnd", *p) for p in _PROBES] + [("ACL", "LIST")])
    finally:
        rc.call("ACL", "DELUSER", "rnd")
        rc.close()


def test_acl_log_length_and_grouping(pair):
    rc, ec = pair
    try:
        both(rc, ec, [("CONFIG", "SET", "acllog-max-len", "3"),
                      ("ACL", "SETUSER", "g", "on", ">x", "+get", "~a*")])
        rc2, ec2 = RedisConn(rc.sock.getpeername()[1]), EngineConn(ec.engine)
        both(rc2, ec2, [("AUTH", "g", "x"), ("GET", "b1"), ("GET", "b1"), ("GET", "b2"),
                        ("SET", "a", "1"), ("GET", "b1"), ("DEL", "a"), ("AUTH", "g", "bad"),
                        ("GET", "b3")])
        rc2.close()
        both(rc, ec, [("ACL", "LOG"), ("ACL", "LOG", "1"), ("CONFIG", "SET", "acllog-max-len", "1"),
                      ("ACL", "LOG"), ("ACL", "LOG", "RESET"), ("ACL", "LOG")], norm=_log_norm)
    finally:
        rc.call("CONFIG", "SET", "acllog-max-len", "128")
