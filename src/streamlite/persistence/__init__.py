"""Durability: the append-only file (Redis's format), snapshots and crash recovery."""

from .aof import AofError
from .manager import LoadError, Persistence, PersistenceConfig
from .snapshot import SnapshotError

__all__ = ["AofError", "LoadError", "Persistence", "PersistenceConfig", "SnapshotError"]
