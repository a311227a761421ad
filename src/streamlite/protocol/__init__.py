"""The Redis protocol: hiredis-based parsing and RESP2/RESP3 reply encoding."""
