"""Commands of group 'sets' (filled in by its owner)."""
