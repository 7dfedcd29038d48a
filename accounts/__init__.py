"""accounts: the custom User (email login), JWT endpoints, profile and admin."""
