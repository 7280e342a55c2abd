"""Tables for contacts and consent (the contacts issue fills this in)."""
