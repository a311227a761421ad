"""Hash commands on the engine: encodings, empty hashes, HSCAN's guarantee,
HRANDFIELD, propagation replay."""

from __future__ import annotations

from tests.engine.test_keys import run_and_replay

from streamlite.engine.replies import ErrorReply


def test_hset_hget_order(r):
    assert r("HSET", "h", "b", "1", "a", "2") == 2
    assert r("HSET", "h", "b", "3", "c", "4") == 1
    assert r("HGETALL", "h") == {b"b": b"3", b"a": b"2", b"c": b"4"}
    assert r("HKEYS", "h") == [b"b", b"a", b"c"]
    r("HDEL", "h", "b")
    r("HSET", "h", "b", "5")
    assert r("HKEYS", "h") == [b"a", b"c", b"b"]


def test_last_field_deletes_key(r):
    r("HSET", "h", "f", "v")
    assert r("HDEL", "h", "f", "g") == 1
    assert r("EXISTS", "h") == 0


def test_encoding_one_way(r, engine):
    engine.config["hash-max-listpack-entries"] = 2
    r("HSET", "h", "a", "1", "b", "2")
    assert r("OBJECT", "ENCODING", "h") == b"listpack"
    r("HSET", "h", "c", "3")
    assert r("OBJECT", "ENCODING", "h") == b"hashtable"
    r("HDEL", "h", "c", "b")
    assert r("OBJECT", "ENCODING", "h") == b"hashtable"


def test_hincr(r):
    assert r("HINCRBY", "h", "n", "5") == 5
    assert r("HINCRBYFLOAT", "h", "n", "0.5") == b"5.5"
    assert r("HINCRBY", "h", "n", "1") == ErrorReply(b"ERR hash value is not an integer")
    assert r("HINCRBYFLOAT", "h", "x", "inf") == ErrorReply(b"ERR value is NaN or Infinity")


def test_hrandfield(r):
    r("HSET", "h", "a", "1", "b", "2", "c", "3")
    assert r("HRANDFIELD", "h") in (b"a", b"b", b"c")
    assert sorted(r("HRANDFIELD", "h", "5")) == [b"a", b"b", b"c"]
    assert len(set(r("HRANDFIELD", "h", "2"))) == 2
    many = r("HRANDFIELD", "h", "-20")
    assert len(many) == 20 and set(many) <= {b"a", b"b", b"c"}
    wv = r("HRANDFIELD", "h", "-6", "WITHVALUES")
    assert len(wv) == 12
    assert all({b"a": b"1", b"b": b"2", b"c": b"3"}[f] == v for f, v in zip(wv[::2], wv[1::2], strict=True))


def test_hscan_guarantee_on_hashtable(r):
    r("HSET", "h", *[x for i in range(700) for x in (f"f{i}", "v")])
    assert r("OBJECT", "ENCODING", "h") == b"hashtable"
    seen = []
    cur = b"0"
    step = 0
    while True:
        cur, page = r("HSCAN", "h", cur, "COUNT", "20", "NOVALUES")
        seen += page
        r("HSET", "h", f"new{step}", "v")
        r("HDEL", "h", f"f{600 + step}")
        step += 1
        if cur == b"0":
            break
    stable = {f"f{i}".encode() for i in range(600)}
    got = [f for f in seen if f in stable]
    assert len(got) == 600 and set(got) == stable


def test_hscan_listpack_all_at_once(r):
    r("HSET", "h", "a", "1", "b", "2")
    assert r("HSCAN", "h", "12345", "COUNT", "1") == [b"0", [b"a", b"1", b"b", b"2"]]


def test_propagation_replay_hashes(engine, clock):
    run_and_replay(engine, clock, [
        ("HSET", "h", "a", "1", "b", "2"), ("HSETNX", "h", "c", "3"), ("HINCRBY", "h", "a", "5"),
        ("HINCRBYFLOAT", "h", "f", "0.1"), ("HINCRBYFLOAT", "h", "f", "0.2"), ("HDEL", "h", "b"),
        ("HMSET", "h2", "x", "y"), ("HDEL", "h2", "x"), ("EXPIRE", "h", "100"),
    ])
    assert (0, [b"HSETEX", b"h", b"KEEPTTL", b"FIELDS", b"1", b"f", b"0.3"]) in engine.effects
