"""Commands of group 'server' (filled in by its owner)."""
