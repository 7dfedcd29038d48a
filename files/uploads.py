"""A Django upload handler that hashes, measures and sniffs the file as it streams in.

The bytes go once through SHA-256 and into a temporary file on disk, chunk by chunk: the
file is never held whole in memory nor read a second time to hash it. Past the size limit
it stops reading the request at once.
"""

from __future__ import annotations

import hashlib

from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler

from .sniff import SNIFF_BYTES


class HashingUploadHandler(TemporaryFileUploadHandler):
    chunk_size = 1024 * 1024  # fewer, larger reads: faster on big uploads

    def __init__(self, request=None, *, max_bytes: int):
        super().__init__(request)
        self.max_bytes = max_bytes
        self.too_large = False
        self.received = 0  # over every file of the request: the limit is per request
        self.digest = hashlib.sha256()
        self.head = b""

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.digest = hashlib.sha256()
        self.head = b""

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.max_bytes:
            self.too_large = True
            # stop reading the body: the rest of a too-large upload is never received
            raise StopUpload(connection_reset=True)
        self.digest.update(raw_data)
        if len(self.head) < SNIFF_BYTES:
            self.head += raw_data[: SNIFF_BYTES - len(self.head)]
        return super().receive_data_chunk(raw_data, start)

    def file_complete(self, file_size):
        upload = super().file_complete(file_size)
        upload.sha256 = self.digest.hexdigest()
        upload.head = self.head
        return upload
