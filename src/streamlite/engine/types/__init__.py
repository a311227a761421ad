"""Value classes of the collection types (hash, list, set, sorted set); see each module."""
