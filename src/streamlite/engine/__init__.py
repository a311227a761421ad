"""streamlite's engine: the keyspace, every data type and the command table."""

from .client import Client
from .clock import FakeClock, SystemClock
from .core import Engine

__all__ = ["Client", "Engine", "FakeClock", "SystemClock"]
