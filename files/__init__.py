"""files: StoredFile, streaming upload with SHA-256, storage, download, verify."""
