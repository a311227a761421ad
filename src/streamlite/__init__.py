"""streamlite: a Redis-Streams-compatible event-streaming platform in Python."""

__version__ = "0.1.0"
# The Redis version whose semantics streamlite implements (INFO server).
REDIS_VERSION = "8.4.0"
