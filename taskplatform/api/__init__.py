"""HTTP building blocks shared by every app: errors, pagination, throttling, schema hooks."""
