"""files: StoredFile, streaming upload with SHA-256, storage, verify (see issue #3)."""
