"""Differences redis-py's own test suite found (tests/clientsuite), against Redis 8.2.

- INFO errorstats names an error code by its bytes as they came, even when they are
  not UTF-8 (redis-py's test_info_with_non_utf8_errorstat decodes them with
  ``backslashreplace``);
- LOLWUT (version 8, the default): a TAPE MARK I stanza, random on both servers, so
  what is compared is what does not vary: every line is one of Balestrini's verses,
  consecutive verses follow his rule, and the text after the stanza is the same byte
  for byte.
"""

from __future__ import annotations

import pytest

from streamlite.engine.commands.lolwut import VERSES, _connects

pytestmark = pytest.mark.redis


def test_errorstats_keep_non_utf8_codes(redis_conn, engine_conn) -> None:
    script = b"return redis.error_reply('\xff\xfeBAD oops')"
    for conn in (redis_conn, engine_conn):
        conn.call("CONFIG", "RESETSTAT")
        assert conn.call("EVAL", script, "0") == ("ERR", "\ufffd\ufffdBAD oops")
    ours, theirs = (c.call("INFO", "errorstats") for c in (engine_conn, redis_conn))
    assert b"errorstat_\xff\xfeBAD:count=1" in theirs.split(b"\r\n")
    assert ours.split(b"\r\n") == theirs.split(b"\r\n")


def _stanza_and_tail(text: bytes) -> tuple[list[str], str]:
    body = text.decode()
    poem, _, tail = body.partition("\n\n")
    return poem.split("\n"), tail


@pytest.mark.parametrize("args", [(), ("IT",), ("VERSION", "8"), ("5", "6", "7", "8")])
def test_lolwut_poem(redis_conn, engine_conn, args: tuple[str, ...]) -> None:
    italian = args[:1] == ("IT",)
    by_line = {(v[1] if italian else v[0]).upper().replace("/", " "): v for v in VERSES}
    got = {name: _stanza_and_tail(conn.call("LOLWUT", *args))
           for name, conn in (("redis", redis_conn), ("streamlite", engine_conn))}
    assert got["redis"][1] == got["streamlite"][1]
    for name, (lines, _) in got.items():
        verses = [by_line[line] for line in lines]  # KeyError: not a verse
        assert 1 <= len(verses) <= 10, name
        assert all(_connects(a, b) for a, b in zip(verses, verses[1:], strict=False)), (name, lines)


def test_lolwut_other_versions_and_errors(redis_conn, engine_conn) -> None:
    for conn in (redis_conn, engine_conn):
        assert conn.call("LOLWUT", "VERSION", "7").startswith(b"Redis ver. ")
        assert conn.call("LOLWUT", "VERSION", "1").startswith(b"Redis ver. ")
    bad = [conn.call("LOLWUT", "VERSION", "x") for conn in (redis_conn, engine_conn)]
    assert bad[0] == bad[1] == ("ERR", "ERR value is not an integer or out of range")
