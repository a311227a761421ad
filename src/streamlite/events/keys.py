"""Key naming that keeps related keys in one Redis Cluster hash slot.

Redis Cluster hashes only the part of a key inside the first ``{...}`` (when that part is
not empty). The framework derives every helper key (dead-letter stream, dedup markers,
partition leases) from the stream it belongs to with :func:`colocated`, so a MULTI/EXEC or
a script that touches a stream and its helper key stays on one slot:

* ``orders`` -> ``{orders}:dlq`` (the hash tag is the whole stream name, so the slot is
  the stream's own slot);
* ``{shop}.orders`` -> ``{shop}.orders:dlq`` (the stream already has a hash tag).

Partitions (:func:`partition_stream`) are meant to spread one stream's load, so each
partition is its own hash slot: ``ledger`` -> ``ledger:p3`` (hashed whole; its lease and
dead-letter stream ``{ledger:p3}:...`` are in its slot), and a stream with a hash tag gets
the partition number inside the tag: ``{shop}.ledger`` -> ``{shop:p3}.ledger`` (else
every partition of it would share the one slot of ``shop``).
"""

from __future__ import annotations

import binascii


def hash_tag(key: str) -> str | None:
    """The hash tag Redis Cluster would use for ``key``, or None when it hashes whole."""
    start = key.find("{")
    if start < 0:
        return None
    end = key.find("}", start + 1)
    if end < 0 or end == start + 1:
        return None
    return key[start + 1 : end]


def colocated(stream: str, suffix: str) -> str:
    """A key named after ``stream`` + ``suffix`` that lives in ``stream``'s hash slot."""
    if hash_tag(stream) is not None:
        return stream + suffix
    if "}" in stream:
        # e.g. "x{}y": no tag, and wrapping it would make "x{" the tag. No key can share
        # its slot except by hashing whole; the caller's same-slot check then falls back
        # to a non-transactional pipeline.
        return stream + suffix
    return "{" + stream + "}" + suffix


def key_slot(key: str | bytes) -> int:
    """Redis Cluster's slot of a key (CRC16/XMODEM of the hash tag, mod 16384)."""
    k = key.decode("utf-8", "surrogateescape") if isinstance(key, bytes) else key
    tag = hash_tag(k)
    data = (tag if tag is not None else k).encode("utf-8", "surrogateescape")
    return binascii.crc_hqx(data, 0) % 16384


def dlq_stream(stream: str) -> str:
    """The dead-letter stream of ``stream`` (same slot, so DLQ XADD + XACK is one MULTI)."""
    return colocated(stream, ":dlq")


def source_of_dlq(dlq: str) -> str | None:
    """The source stream a DLQ name was derived from, if it follows :func:`dlq_stream`."""
    if not dlq.endswith(":dlq"):
        return None
    base = dlq[: -len(":dlq")]
    if base.startswith("{") and base.endswith("}"):
        inner = base[1:-1]
        if inner and "}" not in inner and hash_tag(inner) is None:
            return inner
    return base


def partition_stream(stream: str, index: int) -> str:
    """The stream holding partition ``index`` of a partitioned stream (a slot of its own
    on Redis Cluster: a hash tag of the stream gets the partition number inside it)."""
    if hash_tag(stream) is None:
        return f"{stream}:p{index}"
    end = stream.index("}", stream.index("{") + 2)
    return f"{stream[:end]}:p{index}{stream[end:]}"


def to_str(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
