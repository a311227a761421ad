"""redis-py's sync client on the embedded engine: commands, errors, decoding, RESP3,
pipelines, sharing, threads."""

from __future__ import annotations

import threading

import pytest
import redis
from redis.exceptions import DataError, ResponseError

import streamlite
from streamlite.embedded import Embedded, EmbeddedConnection
from streamlite.engine import Engine


def test_connect_is_a_real_redis_client(r):
    assert isinstance(r, redis.Redis)
    assert isinstance(r.connection_pool.get_connection(), EmbeddedConnection)
    assert r.ping() is True
    assert r.echo("hi") == b"hi"
    assert r.echo(b"\x00\xff") == b"\x00\xff"


def test_arguments_are_encoded_like_redis_py(r):
    assert r.echo(12) == b"12"
    assert r.echo(1.5) == b"1.5"
    assert r.echo(1e20) == b"1e+20"
    assert r.echo("é") == "é".encode()
    with pytest.raises(DataError):
        r.echo(True)
    with pytest.raises(DataError):
        r.echo(None)


def test_errors_are_redis_py_exceptions(r):
    with pytest.raises(ResponseError) as e:
        r.execute_command("NOSUCH", "a")
    assert str(e.value) == "unknown command 'NOSUCH', with args beginning with: 'a' "
    with pytest.raises(ResponseError, match="wrong number of arguments for 'echo' command"):
        r.execute_command("ECHO")
    with pytest.raises(ResponseError, match="DB index is out of range"):
        r.execute_command("SELECT", 99)
    assert r.ping()  # the connection is still usable


def test_command_names_with_spaces_are_split(r):
    with pytest.raises(ResponseError, match="unknown command 'NOSUCH'"):
        r.execute_command("NOSUCH SUB", "x")


def test_decode_responses(rd):
    assert rd.echo("hé") == "hé"
    assert rd.ping() is True


def test_resp3(r3):
    conn = r3.connection_pool.get_connection()
    try:
        assert conn._session.client.protocol == 3
        assert conn.handshake_metadata[b"proto"] == 3
    finally:
        r3.connection_pool.release(conn)
    assert r3.echo("x") == b"x"


def test_db_kwarg_selects(emb):
    c = emb.client(db=3)
    conn = c.connection_pool.get_connection()
    assert conn._session.client.db_index == 3
    c.connection_pool.release(conn)
    with pytest.raises(redis.ConnectionError, match="Invalid Database"):
        emb.client(db=16).ping()


def test_client_name(emb):
    c = emb.client(client_name="worker-1")
    conn = c.connection_pool.get_connection()
    assert conn._session.client.name == b"worker-1"
    assert conn._session.client.lib_name.startswith(b"redis-py")


def test_pipeline_without_transaction(r):
    p = r.pipeline(transaction=False)
    p.echo("a").ping().execute_command("NOSUCH").echo("b")
    out = p.execute(raise_on_error=False)
    assert out[0] == b"a" and out[1] is True and out[3] == b"b"
    assert isinstance(out[2], ResponseError)
    p.echo("a").execute_command("NOSUCH")
    with pytest.raises(ResponseError, match="Command # 2"):
        p.execute()


def test_private_engines_and_sharing(embtest):
    a, b = streamlite.connect(), streamlite.connect()
    a.execute_command("EMBTEST.SET", "k", "1")
    assert b.execute_command("EMBTEST.GET", "k") is None
    e = Embedded()
    c1, c2 = e.client(), streamlite.connect(engine=e)
    c1.execute_command("EMBTEST.SET", "k", "v")
    assert c2.execute_command("EMBTEST.GET", "k") == b"v"
    eng = Engine()
    d1, d2 = streamlite.connect(engine=eng), streamlite.connect(engine=eng)
    d1.execute_command("EMBTEST.SET", "k", "w")
    assert d2.execute_command("EMBTEST.GET", "k") == b"w"
    for x in (a, b, c1, c2, d1, d2):
        x.close()
    e.close()


def test_threads_lose_no_updates(embtest, emb):
    clients = [emb.client() for _ in range(4)]

    def work(c):
        for _ in range(500):
            c.execute_command("EMBTEST.INCR", "n")

    ts = [threading.Thread(target=work, args=(c,)) for c in clients]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert clients[0].execute_command("EMBTEST.GET", "n") == b"2000"


def test_one_client_many_threads(embtest, r):
    # one redis.Redis shared by threads: the pool gives each its own connection
    def work():
        for _ in range(300):
            r.execute_command("EMBTEST.INCR", "n")

    ts = [threading.Thread(target=work) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert r.execute_command("EMBTEST.GET", "n") == b"1200"


def test_close_then_reuse(r):
    r.close()
    assert r.ping() is True  # a closed redis-py client reconnects on use


def test_single_connection_client(emb):
    c = emb.client(single_connection_client=True)
    assert c.echo("x") == b"x"
    c.close()


def test_send_packed_command_with_raw_resp(r):
    conn = r.connection_pool.get_connection()
    try:
        conn.send_packed_command(b"*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n*1\r\n$4\r\nPING\r\n")
        assert conn.read_response() == b"hi"
        assert conn.read_response() == b"PONG"
        assert not conn.can_read()
    finally:
        r.connection_pool.release(conn)


def test_forked_child_cannot_use_the_parents_engine(embtest, tmpdir_path):
    import os

    r = streamlite.connect(tmpdir_path)
    r.execute_command("EMBTEST.SET", "k", "v")
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        try:
            r.execute_command("EMBTEST.SET", "k", "child")
            msg = b"used it"
        except Exception as e:  # noqa: BLE001
            msg = type(e).__name__.encode()
        os.write(wfd, msg)
        os._exit(0)
    os.close(wfd)
    _, status = os.waitpid(pid, 0)
    assert os.read(rfd, 100) == b"EngineClosed"
    os.close(rfd)
    assert r.execute_command("EMBTEST.GET", "k") == b"v"
    r.close()


def test_one_background_thread_for_all_engines():
    clients = [streamlite.connect() for _ in range(20)]
    for c in clients:
        c.ping()
    names = [t.name for t in threading.enumerate()]
    assert names.count("streamlite-embedded") == 1
    for c in clients:
        c.close()


def test_client_kill_and_unblock_through_the_front(embtest, emb):
    from .support import has

    if not has("CLIENT"):
        pytest.skip("engine has no CLIENT yet")
    a, admin = emb.client(), emb.client()
    box: dict = {}
    t = threading.Thread(target=lambda: box.setdefault("r", a.execute_command(
        "EMBTEST.BPOP", "q", 0)))
    t.start()
    import time

    deadline = time.monotonic() + 5
    while len(emb.host.blocking) == 0 and time.monotonic() < deadline:
        time.sleep(0.002)
    ids = [int(line.split()[0].split("=")[1])
           for line in admin.execute_command("CLIENT", "LIST").decode().splitlines()]
    assert len(ids) == 2
    blocked_id = next(s.client.id for s in emb.host.sessions.values() if s.blocked)
    assert admin.execute_command("CLIENT", "UNBLOCK", blocked_id) == 1
    t.join(5)
    assert box == {"r": None}


@pytest.mark.parametrize("url,path,kwargs", [
    ("streamlite://", None, {}),
    ("streamlite:///var/data/app", "/var/data/app", {}),
    ("streamlite:///./data", "./data", {}),
    ("streamlite:///../up", "../up", {}),
    ("streamlite://rel/dir", "rel/dir", {}),
    ("streamlite:///d?appendfsync=always&db=2&decode_responses=yes",
     "/d", {"appendfsync": "always", "db": 2, "decode_responses": True}),
    ("streamlite://?protocol=3", None, {"protocol": 3}),
    ("streamlite:///with%20space", "/with space", {}),
])
def test_parse_url(url, path, kwargs):
    from streamlite.embedded import parse_url

    assert parse_url(url) == (path, kwargs)


def test_from_url_passes_redis_urls_to_redis_py():
    import redis.asyncio

    r = streamlite.from_url("redis://127.0.0.1:1/3")
    assert type(r) is redis.Redis
    kw = r.connection_pool.connection_kwargs
    assert (kw["host"], kw["port"], kw["db"]) == ("127.0.0.1", 1, 3)
    ar = streamlite.from_url_async("redis://127.0.0.1:1/0")
    assert isinstance(ar, redis.asyncio.Redis)


def test_from_url_memory_and_options():
    r = streamlite.from_url("streamlite://?decode_responses=true&protocol=3")
    assert r.echo("x") == "x"
    conn = r.connection_pool.get_connection()
    assert conn._session.client.protocol == 3
    r.connection_pool.release(conn)
    r.close()
    with pytest.raises(TypeError, match="need a data directory"):
        streamlite.connect(appendfsync="always")


def test_socket_only_arguments_are_ignored():
    r = streamlite.connect(host="localhost", port=6379, socket_keepalive=True,
                           ssl_cert_reqs="none")
    assert r.ping()
    r.close()


def test_requirepass_and_auth(emb):
    from redis.exceptions import AuthenticationError

    emb.engine.config["requirepass"] = "secret"
    try:
        with pytest.raises(AuthenticationError):
            emb.client().ping()  # NOAUTH
        assert emb.client(password="secret").ping()
        assert emb.client(username="default", password="secret", protocol=3).ping()
        with pytest.raises(AuthenticationError):
            emb.client(password="wrong").ping()
    finally:
        emb.engine.config["requirepass"] = ""


def test_requirepass_asyncio(emb):
    import asyncio

    from redis.exceptions import AuthenticationError

    emb.engine.config["requirepass"] = "secret"

    async def main():
        bad = emb.async_client()
        with pytest.raises(AuthenticationError):
            await bad.ping()
        good = emb.async_client(password="secret")
        assert await good.ping()
        await bad.aclose()
        await good.aclose()

    try:
        asyncio.run(main())
    finally:
        emb.engine.config["requirepass"] = ""


def test_other_encodings(emb):
    latin = emb.client(encoding="latin-1", decode_responses=True)
    raw = emb.client()
    assert latin.echo("é") == "é"
    assert raw.echo("é".encode("latin-1")) == b"\xe9"
    lenient = emb.client(encoding_errors="replace", decode_responses=True)
    assert lenient.echo(b"\xff") == "\ufffd"


def test_open_and_close_race_on_one_directory(tmp_path):
    """Clients opening a data directory while its last user closes it always end up on
    an open engine (no EngineClosed between opening and holding), and see every write."""
    errors: list[BaseException] = []
    path = str(tmp_path / "data")

    def worker() -> None:
        try:
            for _ in range(40):
                r = streamlite.connect(path)
                r.incr("n")
                r.close()
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    r = streamlite.connect(path)
    try:
        assert r.get("n") == b"240"
    finally:
        r.close()


def test_async_open_and_close_race_on_one_directory(tmp_path):
    import asyncio

    path = str(tmp_path / "data")

    async def worker() -> None:
        for _ in range(30):
            r = streamlite.connect_async(path)
            await r.incr("n")
            await r.aclose()

    async def total() -> bytes | None:
        r = streamlite.connect_async(path)
        try:
            return await r.get("n")
        finally:
            await r.aclose()

    errors: list[BaseException] = []

    def guarded() -> None:
        try:
            asyncio.run(worker())
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=guarded) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert asyncio.run(total()) == b"120"


def test_acl_users_embedded(emb):
    """Embedded connections start as the default user and AUTH as ACL users; their
    permissions are checked as on the server."""
    from redis.exceptions import AuthenticationError, NoPermissionError

    admin = emb.client()
    admin.acl_setuser("producer", enabled=True, passwords=["+prod"], keys=["orders:*"],
                      commands=["+xadd", "+ping"])
    assert admin.acl_whoami() == "default"
    prod = emb.client(username="producer", password="prod")
    assert prod.xadd("orders:1", {"a": "1"})
    with pytest.raises(NoPermissionError):
        prod.xadd("other", {"a": "1"})
    with pytest.raises(NoPermissionError):
        prod.get("orders:1")
    with pytest.raises(AuthenticationError):
        emb.client(username="producer", password="nope").ping()
    assert {e["reason"] for e in admin.acl_log()} == {"key", "command", "auth"}
