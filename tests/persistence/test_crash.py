"""kill -9 of the server under load, at many random moments (appendfsync always): every
write whose reply arrived survives, and the stream's state is self-consistent.

Producers XADD (one of them pipelining batches), consumers XREADGROUP with BLOCK (so
they are served by other clients' writes) and XACK. After each kill and restart:

- every XADD whose reply arrived is in the stream;
- every entry an XREADGROUP reply delivered is at or below its group's
  last-delivered-id, and is still pending unless an XACK for it was sent;
- every XACK whose reply arrived left its entries no longer pending;
- ``XINFO STREAM key FULL`` is self-consistent (``support.check_stream_consistent``).
"""

from __future__ import annotations

import random
import threading
import time

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from .support import check_stream_consistent, connect, sid, start

STREAM = "orders"
GROUP = "g"


class Load:
    def __init__(self, port: int, seed: int) -> None:
        self.port = port
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.added: set[tuple[int, int]] = set()
        self.delivered: set[tuple[int, int]] = set()
        self.ack_sent: set[tuple[int, int]] = set()
        self.ack_done: set[tuple[int, int]] = set()
        self.errors: list[BaseException] = []
        self.seed = seed

    def _client(self) -> redis.Redis:
        # no retries: a reply that did not arrive must count as not acknowledged
        return redis.Redis(port=self.port, socket_timeout=10, retry=Retry(NoBackoff(), 0))

    def producer(self, n: int, pipelined: bool) -> None:
        r = self._client()
        i = 0
        try:
            while not self.stop.is_set():
                if pipelined:
                    p = r.pipeline(transaction=False)
                    for _ in range(20):
                        p.xadd(STREAM, {"p": n, "i": i})
                        i += 1
                    ids = p.execute()
                    time.sleep(0.005)
                else:
                    ids = [r.xadd(STREAM, {"p": n, "i": i})]
                    i += 1
                with self.lock:
                    self.added.update(sid(x) for x in ids)
        except (redis.ConnectionError, redis.TimeoutError, ConnectionError):
            pass
        except BaseException as e:  # noqa: BLE001
            self.errors.append(e)

    def consumer(self, n: int) -> None:
        r = self._client()
        rng = random.Random(self.seed * 10 + n)
        try:
            while not self.stop.is_set():
                got = r.xreadgroup(GROUP, f"c{n}", {STREAM: ">"}, count=10, block=200)
                ids = [sid(e[0]) for _, entries in got for e in entries] if got else []
                raw = [e[0] for _, entries in got for e in entries] if got else []
                with self.lock:
                    self.delivered.update(ids)
                if not raw or rng.random() < 0.2:  # leave some pending
                    continue
                with self.lock:
                    self.ack_sent.update(ids)
                r.xack(STREAM, GROUP, *raw)
                with self.lock:
                    self.ack_done.update(ids)
        except (redis.ConnectionError, redis.TimeoutError, ConnectionError):
            pass
        except BaseException as e:  # noqa: BLE001
            self.errors.append(e)


def test_kill_9_under_load_loses_no_acknowledged_write(tmp_path):
    # automatic rewrites (a 1 MB threshold) happen along the way, and are killed too
    args = ("--appendonly", "yes", "--appendfsync", "always",
            "--auto-aof-rewrite-min-size", "1mb", "--auto-aof-rewrite-percentage", "100")
    rng = random.Random(42)
    srv = start(str(tmp_path), *args)
    r = connect(srv)
    r.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    r.close()
    total = Load(srv.port, 0)  # everything acknowledged over all rounds
    rounds = 15
    t_end = time.monotonic() + 80
    done = 0
    try:
        for rnd in range(rounds):
            load = Load(srv.port, rnd)
            threads = [threading.Thread(target=load.producer, args=(0, False)),
                       threading.Thread(target=load.producer, args=(1, True)),
                       threading.Thread(target=load.consumer, args=(0,)),
                       threading.Thread(target=load.consumer, args=(1,))]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.2, 1.2))
            srv.stop(sig_kill=True)
            load.stop.set()
            for t in threads:
                t.join(15)
            assert not load.errors, load.errors
            for name in ("added", "delivered", "ack_sent", "ack_done"):
                getattr(total, name).update(getattr(load, name))
            srv = start(str(tmp_path), *args)
            r = connect(srv)
            info = check_stream_consistent(srv.port, STREAM)
            present = {sid(e[0]) for e in info[b"entries"]}
            missing = total.added - present
            assert not missing, f"round {rnd}: {len(missing)} acknowledged XADDs lost"
            g = dict(zip(info[b"groups"][0][0::2], info[b"groups"][0][1::2], strict=True))
            last = sid(g[b"last-delivered-id"])
            pending = {sid(p[0]) for p in g[b"pending"]}
            assert all(x <= last for x in total.delivered), f"round {rnd}: a delivery was lost"
            assert not (pending & total.ack_done), f"round {rnd}: an acknowledged XACK was lost"
            lost = total.delivered - pending - total.ack_sent
            assert not lost, f"round {rnd}: delivered entries neither pending nor acked: {lost}"
            r.close()
            done += 1
            if time.monotonic() > t_end:
                break
        assert done >= 8
        manifest = (tmp_path / "appendonlydir" / "appendonly.aof.manifest").read_text()
        assert "appendonly.aof.1.base.aof" not in manifest, "no automatic rewrite happened"
        assert len(total.added) > 500 and len(total.ack_done) > 100
    finally:
        srv.cleanup()
