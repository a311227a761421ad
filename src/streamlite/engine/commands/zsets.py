"""Commands of group 'zsets' (filled in by its owner)."""
