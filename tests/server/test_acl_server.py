"""ACL users through the server, side by side with Redis 8.2: the ``aclfile``
(loaded at startup, ACL SAVE writes it, ACL LOAD reads it back or reports the
errors and changes nothing), ``user`` lines in the config file (and the refusal of
both at once), CLIENT LIST's ``user`` field, clients disconnected when their user is
deleted, redis-py's ``username=`` connections, and the documented producer/worker
example of docs/server.md."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from tests.server.conftest import is_closed, run_both
from tests.support.diff import RedisConn
from tests.support.redis_proc import ServerProc, free_port, start_redis, start_streamlite, wait_port

pytestmark = [pytest.mark.redis, pytest.mark.timeout(300)]

ACL_TEXT = (
    "user default on nopass ~* &* +@all\n"
    "user alice on >a-secret resetchannels ~a:* -@all +@read +ping\n"
)


def documented_setusers() -> list[list[str]]:
    """The ``ACL SETUSER`` lines of docs/server.md's producer/worker example."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "server.md").read_text()
    out = [ln.split() for ln in doc.split("\n") if ln.startswith("ACL SETUSER ")]
    assert [x[2] for x in out] == ["producer", "worker"]
    return out


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[ServerProc, ServerProc, str, str]]:
    d = tempfile.mkdtemp(prefix="acl-test-")
    rfile, sfile = os.path.join(d, "redis.acl"), os.path.join(d, "sl.acl")
    for f in (rfile, sfile):
        with open(f, "w") as fh:
            fh.write(ACL_TEXT)
    rs = start_redis(["--aclfile", rfile])
    ss = start_streamlite(["--aclfile", sfile, "--save", ""])
    yield rs, ss, rfile, sfile
    rs.cleanup()
    ss.cleanup()


def _norm_paths(rfile: str, sfile: str) -> Any:
    def norm(v: Any) -> Any:
        if isinstance(v, tuple) and v[0] == "ERR":
            return ("ERR", v[1].replace(rfile, "F").replace(sfile, "F"))
        return v
    return norm


def test_aclfile_load_save(servers):
    rs, ss, rfile, sfile = servers
    a, b = RedisConn(rs.port), RedisConn(ss.port)
    run_both(a, b, [("ACL", "LIST"), ("ACL", "USERS"),
                    ("ACL", "SETUSER", "extra", "on", ">x", "~k", "(+get ~r*)"),
                    ("ACL", "SAVE")])
    with open(rfile) as f1, open(sfile) as f2:
        assert f1.read() == f2.read()
    # a broken file: errors named by line, nothing changes
    for f in (rfile, sfile):
        with open(f, "a") as fh:
            fh.write("user extra on\nuser bad on +nosuch ~x\nnouser\nuser u (+get\n"
                     "user sp on #abc\n")
    run_both(a, b, [("ACL", "LOAD"), ("ACL", "LIST")], norm=_norm_paths(rfile, sfile))
    for f in (rfile, sfile):
        with open(f, "w") as fh:
            fh.write("user alice on >a ~a*  +get\n\nuser bob off\n")
    run_both(a, b, [("ACL", "LOAD"), ("ACL", "LIST")])
    for f in (rfile, sfile):
        os.unlink(f)
    run_both(a, b, [("ACL", "LOAD")], norm=_norm_paths(rfile, sfile))
    for f in (rfile, sfile):
        with open(f, "w") as fh:
            fh.write(ACL_TEXT)
    run_both(a, b, [("ACL", "LOAD"), ("ACL", "LIST")])
    a.close()
    b.close()


def test_users_on_the_wire(servers):
    rs, ss, _, _ = servers
    for srv in (rs, ss):
        admin = redis.Redis(port=srv.port)
        for argv in documented_setusers():
            assert admin.execute_command(*argv) == b"OK"
        prod = redis.Redis(port=srv.port, username="producer", password="prod-secret")
        work = redis.Redis(port=srv.port, username="worker", password="work-secret")
        admin.xgroup_create("orders:eu", "billing", id="0", mkstream=True)
        assert prod.xadd("orders:eu", {"sku": "a1"})
        with pytest.raises(redis.exceptions.NoPermissionError, match="No permissions to access a key"):
            prod.xadd("payments", {"x": "1"})
        with pytest.raises(redis.exceptions.NoPermissionError, match="'xrange' command"):
            prod.xrange("orders:eu")
        got = work.xreadgroup("billing", "w1", {"orders:eu": ">"}, count=10)
        entry_id = got[0][1][0][0]
        assert work.xack("orders:eu", "billing", entry_id) == 1
        assert work.xautoclaim("orders:eu", "billing", "w1", 0)[0] == b"0-0"
        for denied in (("XADD", "orders:eu", "*", "sku", "b"), ("XRANGE", "orders:eu", "-", "+"),
                       ("DEL", "orders:eu"), ("XGROUP", "CREATE", "orders:eu", "other", "0"),
                       ("XREADGROUP", "GROUP", "billing", "w1", "STREAMS", "payments", ">")):
            with pytest.raises(redis.exceptions.NoPermissionError):
                work.execute_command(*denied)
        info = admin.client_list()
        assert {"producer", "worker", "default"} <= {c["user"] for c in info}
        raw = RedisConn(srv.port)  # (redis-py retries a failed AUTH for seconds)
        assert raw.call("AUTH", "producer", "nope")[1].startswith("WRONGPASS")
        raw.close()
        log = admin.acl_log()
        assert {e["reason"] for e in log} >= {"key", "command", "auth"}
        admin.delete("orders:eu")
        for c in (admin, prod, work):
            c.close()


def test_deluser_disconnects_its_clients(servers):
    rs, ss, _, _ = servers
    for srv in (rs, ss):
        admin = RedisConn(srv.port)
        admin.call("ACL", "SETUSER", "temp", "on", ">t", "+@all", "~*")
        u = RedisConn(srv.port)
        assert u.call("AUTH", "temp", "t") == b"OK"
        assert admin.call("CLIENT", "KILL", "USER", "nobody") == ("ERR", "ERR No such user 'nobody'")
        assert admin.call("ACL", "DELUSER", "temp") == 1
        assert is_closed(u.sock)
        # a subscriber whose channel is revoked is disconnected too
        admin.call("ACL", "SETUSER", "sub", "on", ">s", "+@all", "~*", "resetchannels", "&news")
        s = RedisConn(srv.port)
        s.call("AUTH", "sub", "s")
        s.call("SUBSCRIBE", "news")
        admin.call("ACL", "SETUSER", "sub", "resetchannels", "&other")
        assert is_closed(s.sock)
        admin.call("ACL", "DELUSER", "sub")
        for c in (admin, u, s):
            c.close()


def _start_fails(args: list[str]) -> str:
    port = free_port()
    p = subprocess.run([sys.executable, "-m", "streamlite", "server", *args, "--port", str(port),
                        "--save", "", "--dir", tempfile.mkdtemp(prefix="acl-fail-")],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 1
    return p.stderr


def test_config_user_lines_and_aclfile_conflict(tmp_path):
    conf = tmp_path / "s.conf"
    conf.write_text("user alice on >a ~a* +get\nuser default on >dpw ~* &* +@all\n")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlite", "server", str(conf), "--port",
                             str(port), "--dir", str(tmp_path), "--save", ""],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    srv = ServerProc(proc, port, str(tmp_path), owns_dir=False)
    try:
        wait_port(port, timeout=60, proc=proc)
        c = RedisConn(srv.port)
        assert c.call("GET", "x") == ("ERR", "NOAUTH Authentication required.")
        assert c.call("AUTH", "dpw") == b"OK"
        deadline = time.monotonic() + 60  # (PING before AUTH said NOAUTH, maybe still loading)
        while c.call("PING") != b"PONG" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert c.call("ACL", "LIST") == [
            b"user alice on sanitize-payload #ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9"
            b"807785afee48bb ~a* resetchannels -@all +get",
            b"user default on sanitize-payload #" + __import__("hashlib").sha256(b"dpw")
            .hexdigest().encode() + b" ~* &* +@all"]
        # CONFIG REWRITE writes every user (in the user lines' places, then appended)
        assert c.call("ACL", "SETUSER", "bob", "on", ">b", "+ping") == b"OK"
        assert c.call("CONFIG", "REWRITE") == b"OK"
        lines = [ln for ln in conf.read_text().split("\n") if ln]
        assert lines[0].startswith("user alice on sanitize-payload #")
        assert lines[1].startswith("user bob on sanitize-payload #")
        assert lines[-1].startswith("user default on sanitize-payload #")
        assert sum(ln.startswith("user ") for ln in lines) == 3
        c.close()
    finally:
        srv.cleanup()
    bad = tmp_path / "bad.conf"
    bad.write_text("user alice on +@nosuch\nuser x %Q~a\n")
    assert "Error in user declaration '%Q~a': Syntax error" in _start_fails([str(bad)])
    acl = tmp_path / "u.acl"
    acl.write_text("")
    assert "not both" in _start_fails([str(conf), "--aclfile", str(acl)])


def test_acl_load_keeps_clients_of_users_that_stay(tmp_path):
    """ACL LOAD, as Redis 8.2: a connected user that is still in the file goes on
    under its new rules; one that is gone is disconnected."""
    results = []
    for start in (start_redis, start_streamlite):
        f = tmp_path / f"{start.__name__}.acl"
        f.write_text("user default on nopass ~* &* +@all\nuser alice on >a ~* +@all\n")
        srv = start(["--aclfile", str(f)])
        try:
            adm, a = RedisConn(srv.port), RedisConn(srv.port)
            a.call("AUTH", "alice", "a")
            f.write_text("user default on nopass ~* &* +@all\nuser alice on >a ~* +@all -get\n")
            out = [adm.call("ACL", "LOAD"), a.call("GET", "x"), a.call("ACL", "WHOAMI")]
            f.write_text("user default on nopass ~* &* +@all\n")
            out += [adm.call("ACL", "LOAD"), is_closed(a.sock)]
            results.append(out)
            adm.close()
            a.close()
        finally:
            srv.cleanup()
    assert results[0] == results[1]
