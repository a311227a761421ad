"""Commands of group 'transactions' (filled in by its owner)."""
