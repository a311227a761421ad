"""The dispatch core: unknown commands, arity, PING/ECHO/SELECT, encoder round trips."""

from __future__ import annotations

from streamlite.engine.replies import ErrorReply


def test_unknown_command(r):
    assert r("NOSUCH", "a", "b") == ErrorReply(
        b"ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' "
    )


def test_wrong_arity(r):
    assert r("ECHO") == ErrorReply(b"ERR wrong number of arguments for 'echo' command")


def test_ping_echo(r):
    assert r("PING") == b"PONG"
    assert r("ping", "hi") == b"hi"
    assert r("ECHO", "x") == b"x"


def test_select_range(r):
    assert r("SELECT", "15") == b"OK"
    assert r("SELECT", "16") == ErrorReply(b"ERR DB index is out of range")
    assert r("SELECT", "x") == ErrorReply(b"ERR value is not an integer or out of range")


def test_differential_basics(redis_conn, engine_conn):
    from tests.support.diff import compare

    compare(redis_conn, engine_conn, [("PING",), ("PING", "a"), ("ECHO", "b"), ("SELECT", "16"),
                                      ("NOSUCH",), ("ECHO",)])
