"""Who receives: contacts, segments, consent, unsubscribe, import and export."""
