"""A process using the embedded engine on a directory under load, until killed:
``python -m tests.persistence.embedded_child DIR``.

``appendfsync always``; two producer threads (one pipelining) XADD to ``orders``, two
consumer threads XREADGROUP (BLOCK, so other threads' writes serve them) and XACK.
Each line on stdout is printed once the call returned, that is once acknowledged:
``A id`` added, ``D id`` delivered, ``S id`` XACK about to be sent, ``K id`` acked.
"""

from __future__ import annotations

import random
import sys
import threading

import streamlite

STREAM = "orders"
GROUP = "g"
_out = threading.Lock()


def emit(tag: str, ids: list[bytes]) -> None:
    if not ids:
        return
    with _out:
        sys.stdout.write("".join(f"{tag} {i.decode()}\n" for i in ids))
        sys.stdout.flush()


def producer(path: str, n: int, pipelined: bool) -> None:
    r = streamlite.connect(path, appendfsync="always")
    i = 0
    while True:
        if pipelined:
            p = r.pipeline(transaction=False)
            for _ in range(10):
                p.xadd(STREAM, {"p": n, "i": i})
                i += 1
            emit("A", p.execute())
        else:
            emit("A", [r.xadd(STREAM, {"p": n, "i": i})])
            i += 1


def consumer(path: str, n: int) -> None:
    r = streamlite.connect(path, appendfsync="always")
    rng = random.Random(n)
    while True:
        got = r.xreadgroup(GROUP, f"c{n}", {STREAM: ">"}, count=10, block=100)
        ids = [e[0] for _, entries in got for e in entries] if got else []
        emit("D", ids)
        if not ids or rng.random() < 0.2:
            continue
        emit("S", ids)
        r.xack(STREAM, GROUP, *ids)
        emit("K", ids)


def main() -> int:
    path = sys.argv[1]
    r = streamlite.connect(path, appendfsync="always")
    try:
        r.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    except Exception:  # noqa: BLE001  (BUSYGROUP: a later round)
        pass
    threads = [threading.Thread(target=producer, args=(path, 0, False), daemon=True),
               threading.Thread(target=producer, args=(path, 1, True), daemon=True),
               threading.Thread(target=consumer, args=(path, 0), daemon=True),
               threading.Thread(target=consumer, args=(path, 1), daemon=True)]
    for t in threads:
        t.start()
    with _out:
        print("ready", flush=True)
    threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
