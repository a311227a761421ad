"""Commands of group 'scripting' (filled in by its owner)."""
