"""The shared fixtures (users, API clients, SMTP server, real worker, browser…) are a plugin:
taskplatform/testing/fixtures.py. Nothing else belongs here."""

pytest_plugins = ["taskplatform.testing.fixtures"]
