"""Commands of group 'hashes' (filled in by its owner)."""
