"""notifications: Notification, preferences, email rendering and sending (see issue #4)."""
