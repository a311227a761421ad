"""Commands of group 'pubsub' (filled in by its owner)."""
