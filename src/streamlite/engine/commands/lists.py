"""Commands of group 'lists' (filled in by its owner)."""
