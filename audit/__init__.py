"""audit: an append-only record of key actions. Write with `audit.services.audit_record(...)`."""
