"""Settings split by environment: base (everything, read from env), dev, test, prod."""
