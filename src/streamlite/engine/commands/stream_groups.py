"""Commands of group 'stream_groups' (filled in by its owner)."""
