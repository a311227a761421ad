"""Commands of group 'keys' (filled in by its owner)."""
