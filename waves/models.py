"""Tables for approvals, wave runs and the delivery ledger (the sending issue fills this in)."""
