"""notifications: the one way the platform talks to people (email, with an outbox)."""
