"""Lua scripting through redis-py on real Redis and embedded: eval, register_script
(EVALSHA with the NoScriptError fallback), scripts in pipelines, errors."""

from __future__ import annotations

import pytest
from redis.exceptions import NoScriptError, ResponseError

SCRIPTING = ("EVAL", "EVALSHA", "SCRIPT")


def test_eval_reply_types(backend):
    backend.needs(*SCRIPTING)
    r = backend.client()
    assert r.eval("return {1, 2, 'x', {3}}", 0) == [1, 2, b"x", [3]]
    assert r.eval("return KEYS[1] .. ARGV[1]", 1, "k", "v") == b"kv"
    assert r.eval("return redis.status_reply('FINE')", 0) == b"FINE"
    assert r.eval("return nil", 0) is None
    assert r.eval("return 3.99", 0) == 3
    with pytest.raises(ResponseError, match="my error"):
        r.eval("return redis.error_reply('my error')", 0)


def test_register_script_and_noscript(backend):
    backend.needs(*SCRIPTING, "INCR")
    r = backend.client()
    incr = r.register_script("return redis.call('INCR', KEYS[1])")
    assert incr(keys=["c"]) == 1
    r.script_flush()
    assert incr(keys=["c"]) == 2  # NOSCRIPT -> SCRIPT LOAD -> EVALSHA, inside redis-py
    with pytest.raises(NoScriptError):
        r.evalsha("0" * 40, 0)
    sha = r.script_load("return 7")
    assert r.script_exists(sha, "0" * 40) == [True, False]
    assert r.evalsha(sha, 0) == 7


def test_script_in_pipeline(backend):
    backend.needs(*SCRIPTING, "INCR", "MULTI", "EXEC")
    r = backend.client()
    add = r.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
    r.script_flush()
    p = r.pipeline()
    add(keys=["n"], args=[5], client=p)
    add(keys=["n"], args=[2], client=p)
    assert p.execute() == [5, 7]


def test_conditional_publish_script(backend):
    """Seed 000's conditional publish: XADD only when the flag is 'true'."""
    backend.needs(*SCRIPTING, "XADD", "GET", "SET", "XLEN")
    r = backend.client(decode_responses=True)
    publish_if = r.register_script(
        "local v = redis.call('GET', KEYS[2]) "
        "if v == 'true' then return redis.call('XADD', KEYS[1], '*', 'data', ARGV[1]) "
        "else return nil end"
    )
    assert publish_if(keys=["events", "flag"], args=["x"]) is None
    r.set("flag", "true")
    mid = publish_if(keys=["events", "flag"], args=["y"])
    assert isinstance(mid, str) and "-" in mid
    assert r.xlen("events") == 1


def test_script_errors(backend):
    backend.needs(*SCRIPTING, "SET", "LPUSH")
    r = backend.client()
    r.set("s", "x")
    with pytest.raises(ResponseError, match="WRONGTYPE"):
        r.eval("return redis.call('LPUSH', KEYS[1], 'v')", 1, "s")
    assert r.eval("return redis.pcall('LPUSH', KEYS[1], 'v')['err']", 1, "s").startswith(
        b"WRONGTYPE")



def test_busy_script_answers_others_and_is_killed(backend):
    """Past busy-reply-threshold another client gets -BUSY (not a wait without end),
    SCRIPT KILL from another thread stops the script and its caller gets Redis's
    error; on real Redis and embedded alike."""
    import threading
    import time

    backend.needs(*SCRIPTING, "CONFIG")
    r, other = backend.client(), backend.client()
    r.config_set("busy-reply-threshold", 100)
    result: list[object] = []

    def caller() -> None:
        try:
            result.append(r.eval("while true do end", 0))
        except ResponseError as e:
            result.append(str(e))

    t = threading.Thread(target=caller)
    t.start()
    try:
        deadline = time.monotonic() + 60
        busy = None
        while busy is None:
            assert time.monotonic() < deadline, "never busy"
            try:
                other.ping()
            except ResponseError as e:
                busy = str(e)
        assert busy == ("BUSY Redis is busy running a script. You can only call SCRIPT KILL "
                        "or SHUTDOWN NOSAVE.")
        assert other.script_kill() is True
    finally:
        t.join(60)
        if t.is_alive():  # do not leave a looping script behind a failed assertion
            other.script_kill()
            t.join(60)
    assert result and str(result[0]).startswith("Script killed by user with SCRIPT KILL...")
    assert other.ping() is True
    r.config_set("busy-reply-threshold", 5000)
