"""Value classes of the keyspace's collection types (list, set, sorted set, hash)."""
