"""Commands of group 'strings' (filled in by its owner)."""
