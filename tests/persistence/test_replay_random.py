"""A broad random workload of every write command, through a real AOF: what the engine
propagates, replayed into a fresh engine, must rebuild exactly the same data.

The workload covers every command the command table flags ``write`` (checked below,
so a new write command without a generator here fails this test), plus MULTI/EXEC,
scripts, functions and DUMP/RESTORE, with a fake clock moving so that TTLs (key and
field) expire along the way.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

from streamlite.engine import FakeClock
from streamlite.engine.registry import COMMANDS

from .helpers import Durable, canonical

LIB = (
    "#!lua name=wlib\n"
    "redis.register_function('wset', function(keys, args)\n"
    "  redis.call('SET', keys[1], args[1]); return redis.call('INCR', keys[2]) end)\n"
)

Gen = Callable[["Work"], list[Any]]


class Work:
    def __init__(self, d: Durable, rng: random.Random, clock: FakeClock) -> None:
        self.d = d
        self.rng = rng
        self.clock = clock
        self.seen: set[str] = set()

    def key(self, kind: str) -> str:
        return f"{kind}{self.rng.randrange(4)}"

    def any_key(self) -> str:
        return self.key(self.rng.choice("slhtzxbpg"))

    def lonlat(self) -> list[str]:
        return [f"{13 + self.rng.random():.5f}", f"{38 + self.rng.random():.5f}"]

    def val(self) -> str:
        r = self.rng.random()
        if r < 0.3:
            return str(self.rng.randrange(-50, 200))
        if r < 0.35:
            return "v" * self.rng.randrange(60, 120)  # past listpack value limits
        return self.rng.choice(["a", "b", "c", "hello", "x y", "é", ""]) + str(self.rng.randrange(9))

    def num(self, lo: int = 0, hi: int = 5) -> str:
        return str(self.rng.randrange(lo, hi))

    def ttl_opt(self) -> list[str]:
        now = self.clock.ms()
        return self.rng.choice([[], [], ["EX", "1"], ["PX", self.num(20, 400)],
                                ["PXAT", str(now + self.rng.randrange(10, 300))],
                                ["EXAT", str(now // 1000 + 2)], ["KEEPTTL"]])

    def ids(self, key: str, n: int = 3) -> list[str]:
        got = self.d.engine.execute(self.d.client, [b"XRANGE", key.encode(), b"-", b"+"])
        out = [e[0].decode() for e in got] if isinstance(got, list) else []
        if not out or self.rng.random() < 0.1:
            return ["1-1"]
        return self.rng.sample(out, min(n, len(out)))

    def fields(self, n: int = 3) -> list[str]:
        return [f"f{self.rng.randrange(6)}" for _ in range(n)]


def _xadd(w: Work) -> list[Any]:
    k = w.key("x")
    opts: list[str] = w.rng.choice([[], [], ["NOMKSTREAM"], ["MAXLEN", "~", "20"],
                                     ["MAXLEN", "15"], ["MINID", "~", "0-1"],
                                     ["IDMP", "p1", f"i{w.rng.randrange(5)}"],
                                     ["IDMPAUTO", "p2"], ["KEEPREF", "MAXLEN", "10"],
                                     ["ACKED", "MAXLEN", "12"], ["DELREF", "MAXLEN", "12"]])
    fields = ["f", w.val()] if w.rng.random() < 0.7 else ["f", w.val(), "g", w.val()]
    return ["XADD", k, *opts, "*", *fields]


GENS: dict[str, list[Gen]] = {
    # strings
    "set": [lambda w: ["SET", w.key("s"), w.val(), *w.ttl_opt()],
            lambda w: ["SET", w.key("s"), w.val(), "NX", "GET"],
            lambda w: ["SET", w.key("s"), w.val(), "XX", *w.ttl_opt()],
            lambda w: ["SET", w.key("s"), w.val(), "IFEQ", w.val()]],
    "setnx": [lambda w: ["SETNX", w.key("s"), w.val()]],
    "setex": [lambda w: ["SETEX", w.key("s"), "1", w.val()]],
    "psetex": [lambda w: ["PSETEX", w.key("s"), w.num(50, 500), w.val()]],
    "getset": [lambda w: ["GETSET", w.key("s"), w.val()]],
    "getdel": [lambda w: ["GETDEL", w.key("s")]],
    "getex": [lambda w: ["GETEX", w.key("s"), *w.rng.choice([["PX", "300"], ["PERSIST"], []])]],
    "append": [lambda w: ["APPEND", w.key("s"), w.val()]],
    "setrange": [lambda w: ["SETRANGE", w.key("s"), w.num(0, 10), w.val()]],
    "incr": [lambda w: ["INCR", w.key("s")]],
    "decr": [lambda w: ["DECR", w.key("s")]],
    "incrby": [lambda w: ["INCRBY", w.key("s"), w.num(-9, 9)]],
    "decrby": [lambda w: ["DECRBY", w.key("s"), w.num(-9, 9)]],
    "incrbyfloat": [lambda w: ["INCRBYFLOAT", w.key("s"), "1.25"]],
    "arset": [lambda w: ["ARSET", w.key("a"), w.num(0, 9), w.val(), w.val()]],
    "armset": [lambda w: ["ARMSET", w.key("a"), w.num(0, 9), w.val(), "70000", w.val()]],
    "ardel": [lambda w: ["ARDEL", w.key("a"), w.num(0, 9), w.num(0, 9)]],
    "ardelrange": [lambda w: ["ARDELRANGE", w.key("a"), w.num(0, 9), w.num(0, 9)]],
    "arinsert": [lambda w: ["ARINSERT", w.key("a"), w.val()]],
    "arring": [lambda w: ["ARRING", w.key("a"), w.num(2, 6), w.val(), w.val()]],
    "arseek": [lambda w: ["ARSEEK", w.key("a"), w.num(0, 20)]],
    "increx": [lambda w: ["INCREX", w.key("s"), "BYINT", w.num(-3, 5), "UBOUND", "40", "EX", "60",
                          "ENX"],
               lambda w: ["INCREX", w.key("s"), "BYFLOAT", "0.5", "SATURATE", "PERSIST"]],
    "mset": [lambda w: ["MSET", w.key("s"), w.val(), w.key("s"), w.val()]],
    "msetnx": [lambda w: ["MSETNX", w.key("s"), w.val(), w.key("s"), w.val()]],
    "msetex": [lambda w: ["MSETEX", "2", w.key("s"), w.val(), w.key("s"), w.val(),
                          *w.rng.choice([["PX", "200"], ["EX", "1"], []])]],
    "delex": [lambda w: ["DELEX", w.key("s"), *w.rng.choice([[], ["IFEQ", w.val()],
                                                              ["IFNE", w.val()]])]],
    # keys
    "del": [lambda w: ["DEL", w.any_key(), w.any_key()]],
    "unlink": [lambda w: ["UNLINK", w.any_key()]],
    "rename": [lambda w: (lambda k: ["RENAME", k, k[0] + w.num(0, 4)])(w.any_key())],
    "renamenx": [lambda w: (lambda k: ["RENAMENX", k, k[0] + w.num(0, 4)])(w.any_key())],
    "copy": [lambda w: (lambda k: ["COPY", k, k[0] + w.num(0, 4), "REPLACE"])(w.any_key()),
             lambda w: ["COPY", w.any_key(), w.any_key(), "DB", "1"]],
    "move": [lambda w: ["MOVE", w.any_key(), w.num(1, 3)]],
    "expire": [lambda w: ["EXPIRE", w.any_key(), w.rng.choice(["1", "100", "-1"]),
                          *w.rng.choice([[], ["NX"], ["GT"]])]],
    "pexpire": [lambda w: ["PEXPIRE", w.any_key(), w.num(10, 500)]],
    "expireat": [lambda w: ["EXPIREAT", w.any_key(), str(w.clock.ms() // 1000 + 1)]],
    "pexpireat": [lambda w: ["PEXPIREAT", w.any_key(), str(w.clock.ms() + 200)]],
    "persist": [lambda w: ["PERSIST", w.any_key()]],
    "swapdb": [lambda w: ["SWAPDB", "1", "2"]],
    "flushdb": [lambda w: ["FLUSHDB"] if w.rng.random() < 0.05 else ["PING"]],
    "flushall": [lambda w: ["FLUSHALL"] if w.rng.random() < 0.02 else ["PING"]],
    "restore": [lambda w: _restore(w)],
    # lists
    "lpush": [lambda w: ["LPUSH", w.key("l"), w.val(), w.val()]],
    "rpush": [lambda w: ["RPUSH", w.key("l"), *[w.val() for _ in range(w.rng.randrange(1, 6))]]],
    "lpushx": [lambda w: ["LPUSHX", w.key("l"), w.val()]],
    "rpushx": [lambda w: ["RPUSHX", w.key("l"), w.val()]],
    "lpop": [lambda w: ["LPOP", w.key("l"), *w.rng.choice([[], ["2"]])]],
    "rpop": [lambda w: ["RPOP", w.key("l")]],
    "lmove": [lambda w: ["LMOVE", w.key("l"), w.key("l"), "LEFT", "RIGHT"]],
    "rpoplpush": [lambda w: ["RPOPLPUSH", w.key("l"), w.key("l")]],
    "blmove": [lambda w: ["BLMOVE", w.key("l"), w.key("l"), "RIGHT", "LEFT", "0.01"]],
    "lmovem": [lambda w: ["LMOVEM", w.key("l"), w.key("l"), "LEFT", "RIGHT", "COUNT",
                          w.num(1, 4), w.rng.choice(["OBO", "BULK"])]],
    "blmovem": [lambda w: ["BLMOVEM", w.key("l"), w.key("l"), "RIGHT", "LEFT", "0.01",
                           "EXACTLY", "2", "OBO"]],
    "brpoplpush": [lambda w: ["BRPOPLPUSH", w.key("l"), w.key("l"), "0.01"]],
    "blpop": [lambda w: ["BLPOP", w.key("l"), w.key("l"), "0.01"]],
    "brpop": [lambda w: ["BRPOP", w.key("l"), "0.01"]],
    "lmpop": [lambda w: ["LMPOP", "2", w.key("l"), w.key("l"), "LEFT", "COUNT", "2"]],
    "blmpop": [lambda w: ["BLMPOP", "0.01", "1", w.key("l"), "RIGHT"]],
    "lset": [lambda w: ["LSET", w.key("l"), w.num(-2, 3), w.val()]],
    "linsert": [lambda w: ["LINSERT", w.key("l"), "BEFORE", w.val(), w.val()]],
    "lrem": [lambda w: ["LREM", w.key("l"), w.num(-2, 2), w.val()]],
    "ltrim": [lambda w: ["LTRIM", w.key("l"), w.num(0, 2), w.num(-3, 8)]],
    # hashes
    "hset": [lambda w: ["HSET", w.key("h"), *[x for f in w.fields(2) for x in (f, w.val())]]],
    "hmset": [lambda w: ["HMSET", w.key("h"), w.fields(1)[0], w.val()]],
    "hsetnx": [lambda w: ["HSETNX", w.key("h"), w.fields(1)[0], w.val()]],
    "hdel": [lambda w: ["HDEL", w.key("h"), *w.fields(2)]],
    "hincrby": [lambda w: ["HINCRBY", w.key("h"), "n", w.num(-3, 3)]],
    "hincrbyfloat": [lambda w: ["HINCRBYFLOAT", w.key("h"), "fl", "0.5"]],
    "hexpire": [lambda w: ["HEXPIRE", w.key("h"), "1", "FIELDS", "2", *w.fields(2)]],
    "hpexpire": [lambda w: ["HPEXPIRE", w.key("h"), w.num(20, 400), "FIELDS", "1", *w.fields(1)]],
    "hexpireat": [lambda w: ["HEXPIREAT", w.key("h"), str(w.clock.ms() // 1000 + 1),
                             "FIELDS", "1", *w.fields(1)]],
    "hpexpireat": [lambda w: ["HPEXPIREAT", w.key("h"), str(w.clock.ms() + 150),
                              "FIELDS", "1", *w.fields(1)]],
    "hpersist": [lambda w: ["HPERSIST", w.key("h"), "FIELDS", "2", *w.fields(2)]],
    "hgetdel": [lambda w: ["HGETDEL", w.key("h"), "FIELDS", "1", *w.fields(1)]],
    "hgetex": [lambda w: ["HGETEX", w.key("h"), *w.rng.choice([["PX", "200"], ["PERSIST"]]),
                          "FIELDS", "1", *w.fields(1)]],
    "hsetex": [lambda w: ["HSETEX", w.key("h"), *w.rng.choice([["PX", "200"], ["KEEPTTL"], []]),
                          "FIELDS", "1", w.fields(1)[0], w.val()]],
    # sets
    "sadd": [lambda w: ["SADD", w.key("t"), *[w.val() for _ in range(w.rng.randrange(1, 5))]]],
    "srem": [lambda w: ["SREM", w.key("t"), w.val(), w.val()]],
    "spop": [lambda w: ["SPOP", w.key("t"), *w.rng.choice([[], ["2"], ["9"]])]],
    "smove": [lambda w: ["SMOVE", w.key("t"), w.key("t"), w.val()]],
    "sinterstore": [lambda w: ["SINTERSTORE", w.key("t"), w.key("t"), w.key("t")]],
    "sunionstore": [lambda w: ["SUNIONSTORE", w.key("t"), w.key("t"), w.key("t")]],
    "sdiffstore": [lambda w: ["SDIFFSTORE", w.key("t"), w.key("t"), w.key("t")]],
    # sorted sets
    "zadd": [lambda w: ["ZADD", w.key("z"), *w.rng.choice([[], ["NX"], ["XX", "CH"], ["GT"]]),
                        w.num(-5, 5), w.val(), str(w.rng.random()), w.val()],
             lambda w: ["ZADD", w.key("z"), "INCR", "1.5", w.val()]],
    "zincrby": [lambda w: ["ZINCRBY", w.key("z"), "2", w.val()]],
    "zrem": [lambda w: ["ZREM", w.key("z"), w.val()]],
    "zpopmin": [lambda w: ["ZPOPMIN", w.key("z"), *w.rng.choice([[], ["2"]])]],
    "zpopmax": [lambda w: ["ZPOPMAX", w.key("z")]],
    "bzpopmin": [lambda w: ["BZPOPMIN", w.key("z"), "0.01"]],
    "bzpopmax": [lambda w: ["BZPOPMAX", w.key("z"), "0.01"]],
    "zmpop": [lambda w: ["ZMPOP", "1", w.key("z"), "MIN", "COUNT", "2"]],
    "bzmpop": [lambda w: ["BZMPOP", "0.01", "1", w.key("z"), "MAX"]],
    "zrangestore": [lambda w: ["ZRANGESTORE", w.key("z"), w.key("z"), "0", "2"]],
    "zunionstore": [lambda w: ["ZUNIONSTORE", w.key("z"), "2", w.key("z"), w.key("z")]],
    "zinterstore": [lambda w: ["ZINTERSTORE", w.key("z"), "2", w.key("z"), w.key("z"),
                               "AGGREGATE", "MAX"]],
    "zdiffstore": [lambda w: ["ZDIFFSTORE", w.key("z"), "2", w.key("z"), w.key("z")]],
    "zremrangebyscore": [lambda w: ["ZREMRANGEBYSCORE", w.key("z"), "-1", "1"]],
    "zremrangebyrank": [lambda w: ["ZREMRANGEBYRANK", w.key("z"), "0", "0"]],
    "zremrangebylex": [lambda w: ["ZREMRANGEBYLEX", w.key("z"), "[a", "(c"]],
    # streams
    "xadd": [_xadd, _xadd, _xadd],
    "xdel": [lambda w: (lambda k: ["XDEL", k, *w.ids(k, 2)])(w.key("x"))],
    "xdelex": [lambda w: (lambda k: ["XDELEX", k, w.rng.choice(["KEEPREF", "DELREF", "ACKED"]),
                                     "IDS", "1", *w.ids(k, 1)])(w.key("x"))],
    "xtrim": [lambda w: ["XTRIM", w.key("x"), "MAXLEN", w.rng.choice(["~", "="]), w.num(5, 30)]],
    "xsetid": [lambda w: ["XSETID", w.key("x"), str(w.clock.ms() + 5) + "-0"]],
    "xcfgset": [lambda w: ["XCFGSET", w.key("x"), "IDMP-DURATION", w.num(50, 200)]],
    "xgroup": [lambda w: ["XGROUP", "CREATE", w.key("x"), f"g{w.num(0, 3)}",
                          w.rng.choice(["0", "$"]), *w.rng.choice([[], ["MKSTREAM"]])],
               lambda w: ["XGROUP", "SETID", w.key("x"), f"g{w.num(0, 3)}", "0",
                          *w.rng.choice([[], ["ENTRIESREAD", "2"]])],
               lambda w: ["XGROUP", "DESTROY", w.key("x"), f"g{w.num(0, 3)}"]
               if w.rng.random() < 0.2 else ["PING"],
               lambda w: ["XGROUP", "CREATECONSUMER", w.key("x"), f"g{w.num(0, 3)}",
                          f"c{w.num(0, 4)}"],
               lambda w: ["XGROUP", "DELCONSUMER", w.key("x"), f"g{w.num(0, 3)}",
                          f"c{w.num(0, 4)}"]],
    "xreadgroup": [lambda w: ["XREADGROUP", "GROUP", f"g{w.num(0, 3)}", f"c{w.num(0, 4)}",
                              "COUNT", w.num(1, 6), *w.rng.choice([[], ["NOACK"]]),
                              "STREAMS", w.key("x"), w.rng.choice([">", ">", "0"])],
                   lambda w: ["XREADGROUP", "GROUP", f"g{w.num(0, 3)}", f"c{w.num(0, 4)}",
                              "COUNT", "2", "BLOCK", "10", "STREAMS", w.key("x"), ">"]],
    "xack": [lambda w: (lambda k: ["XACK", k, f"g{w.num(0, 3)}", *w.ids(k)])(w.key("x"))],
    "xackdel": [lambda w: (lambda k: ["XACKDEL", k, f"g{w.num(0, 3)}",
                                      w.rng.choice(["KEEPREF", "DELREF", "ACKED"]),
                                      "IDS", "1", *w.ids(k, 1)])(w.key("x"))],
    "xclaim": [lambda w: (lambda k: ["XCLAIM", k, f"g{w.num(0, 3)}", f"c{w.num(0, 4)}", "0",
                                     *w.ids(k), *w.rng.choice([[], ["JUSTID"], ["FORCE"],
                                                               ["RETRYCOUNT", "3"]])])(w.key("x"))],
    "xnack": [lambda w: (lambda k: ["XNACK", k, f"g{w.num(0, 3)}",
                                    w.rng.choice(["SILENT", "FAIL", "FATAL"]), "IDS", "2",
                                    *w.ids(k, 2), *w.rng.choice([[], ["FORCE"],
                                                                 ["RETRYCOUNT", "2"]])])(w.key("x")),
              lambda w: ["XREADGROUP", "GROUP", f"g{w.num(0, 3)}", f"c{w.num(0, 4)}",
                         "COUNT", "3", "CLAIM", "0", "STREAMS", w.key("x"), ">"]],
    "xautoclaim": [lambda w: ["XAUTOCLAIM", w.key("x"), f"g{w.num(0, 3)}", f"c{w.num(0, 4)}",
                              "0", "0-0", "COUNT", "3", *w.rng.choice([[], ["JUSTID"]])]],
    # bitmaps (b*), HyperLogLogs (p*), GEO sets (g*), SORT
    "setbit": [lambda w: ["SETBIT", w.key("b"), w.num(0, 200), w.num(0, 2)]],
    "bitop": [lambda w: ["BITOP", w.rng.choice(["AND", "OR", "XOR", "DIFF", "ONE"]), w.key("b"),
                         w.key("b"), w.key("b")],
              lambda w: ["BITOP", "NOT", w.key("b"), w.key("b")]],
    "bitfield": [lambda w: ["BITFIELD", w.key("b"), "OVERFLOW",
                            w.rng.choice(["WRAP", "SAT", "FAIL"]),
                            w.rng.choice(["SET", "INCRBY"]), w.rng.choice(["i8", "u4", "i33"]),
                            w.num(0, 100), w.num(-300, 300)]],
    "pfadd": [lambda w: ["PFADD", w.key("p"), *[w.val() for _ in range(w.rng.randrange(0, 8))]],
              lambda w: ["PFADD", w.key("p"), *[str(w.rng.random()) for _ in range(200)]],
              lambda w: ["PFCOUNT", w.key("p")]],  # read-only, but it may cache an estimate
    "pfmerge": [lambda w: ["PFMERGE", w.key("p"), w.key("p"), w.key("p")]],
    "pfdebug": [lambda w: ["PFDEBUG", "TODENSE", w.key("p")]],
    "geoadd": [lambda w: ["GEOADD", w.key("g"), *w.rng.choice([[], ["NX"], ["XX", "CH"]]),
                          *w.lonlat(), w.val(), *w.lonlat(), w.val()]],
    "georadius": [lambda w: ["GEORADIUS", w.key("g"), *w.lonlat(), w.num(1, 200), "km",
                             w.rng.choice(["STORE", "STOREDIST"]), w.key("g")]],
    "georadiusbymember": [lambda w: ["GEORADIUSBYMEMBER", w.key("g"), w.val(), "150", "km",
                                     "COUNT", "3", "STORE", w.key("z")]],
    "geosearchstore": [lambda w: ["GEOSEARCHSTORE", w.key("g"), w.key("g"), "FROMLONLAT",
                                  *w.lonlat(), "BYBOX", w.num(10, 300), w.num(10, 300), "km",
                                  *w.rng.choice([[], ["STOREDIST"]])]],
    "sort": [lambda w: ["SORT", w.rng.choice([w.key("l"), w.key("t"), w.key("z")]), "ALPHA",
                        *w.rng.choice([[], ["DESC"], ["LIMIT", "1", "3"]]), "STORE", w.key("l")],
             lambda w: ["SORT", w.key("l"), "BY", "nosort", "STORE", w.key("l")]],
    # functions (subcommands of FUNCTION), scripts, transactions
    "function": [lambda w: ["FCALL", "wset", "2", w.key("s"), w.key("s"), w.val()]],
}


STREAM_CMDS = [n for n in GENS if n.startswith("x")] + ["xgroup"] * 3


def _restore(w: Work) -> list[Any]:
    src = w.any_key()
    payload = w.d.engine.execute(w.d.client, [b"DUMP", src.encode()])
    if not isinstance(payload, bytes) or payload.startswith(b"ERR"):
        return ["PING"]
    return ["RESTORE", src[0] + w.num(0, 4), w.rng.choice(["0", "300"]), payload, "REPLACE"]


def _unit(w: Work) -> list[list[Any]]:
    """MULTI/EXEC of a few writes, or a script with several writes."""
    gens = [g for name, gl in GENS.items() for g in gl if not name.startswith("b")]
    if w.rng.random() < 0.5:
        return [["MULTI"], *[w.rng.choice(gens)(w) for _ in range(w.rng.randrange(1, 5))],
                ["EXEC"]]
    k1, k2 = w.key("s"), w.key("l")
    return [["EVAL", "redis.call('SET', KEYS[1], ARGV[1]); redis.call('RPUSH', KEYS[2], ARGV[1]);"
             " return redis.call('INCR', KEYS[1] .. 'n')", "2", k1, k2, w.val()]]


def run_workload(d: Durable, seed: int, n: int, clock: FakeClock) -> set[str]:
    rng = random.Random(seed)
    w = Work(d, rng, clock)
    d("FUNCTION", "LOAD", LIB)
    names = list(GENS)
    used: set[str] = set()
    for i in range(n):
        clock.advance(rng.choice([0, 0, 1, 5, 20, 60]))
        if rng.random() < 0.05:
            cmds = _unit(w)
        else:  # streams, with their groups and PELs, get a third of the commands
            name = rng.choice(STREAM_CMDS if rng.random() < 0.33 else names)
            cmds = [rng.choice(GENS[name])(w)]
        for argv in cmds:
            used.add(str(argv[0]).lower())
            if str(argv[0]).upper() == "SELECT":
                continue
            if rng.random() < 0.03:
                d("SELECT", rng.randrange(3))
            d(*argv)
        if i % 97 == 0:
            d("SELECT", "0")
    return used


def test_every_write_command_has_a_generator():
    write_cmds = {n.decode() for n, c in COMMANDS.items() if c.is_write}
    missing = write_cmds - set(GENS)
    assert not missing, f"write commands with no generator in the replay workload: {missing}"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_workload_replays_exactly(tmp_path, seed):
    clock = FakeClock()
    d = Durable(str(tmp_path), clock, appendfsync="no")
    used = run_workload(d, seed, 4000, clock)
    assert {"xreadgroup", "xclaim", "eval", "exec", "fcall", "restore"} <= used
    before = canonical(d.engine, times=False)
    assert len(before) > 20
    d.close()
    d2 = Durable(str(tmp_path), clock)
    assert canonical(d2.engine, times=False) == before
    d2.close()


def test_random_workload_across_rewrites_replays_exactly(tmp_path):
    clock = FakeClock()
    d = Durable(str(tmp_path), clock, appendfsync="no")
    for part in range(3):
        run_workload(d, 10 + part, 700, clock)
        assert d("BGREWRITEAOF").startswith(b"Background append only file rewriting")
        run_workload(d, 20 + part, 300, clock)  # while the child writes the base
        d.p.wait_children()
    before = canonical(d.engine, times=False)
    d.close()
    d2 = Durable(str(tmp_path), clock)
    assert canonical(d2.engine, times=False) == before
    d2.close()
