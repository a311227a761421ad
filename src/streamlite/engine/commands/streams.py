"""Commands of group 'streams' (filled in by its owner)."""
