"""A stored file's bytes as an HTTP download, for every URL that serves one (the files API,
a task's attachments, the web app's pages): the same headers wherever the file is reached
from."""

from __future__ import annotations

import base64

from django.http import FileResponse, HttpRequest, HttpResponseBase, HttpResponseNotModified

from . import services
from .models import StoredFile


def _repr_digest(hex_digest: str) -> str:
    """RFC 9530 `Repr-Digest` value: `sha-256=:<base64 of the raw digest>:`."""
    return f"sha-256=:{base64.b64encode(bytes.fromhex(hex_digest)).decode()}:"


def file_download_response(request: HttpRequest, stored: StoredFile) -> HttpResponseBase:
    """The bytes, streamed, as an attachment; 304 when If-None-Match holds its digest."""
    etag = f'"{stored.sha256}"'
    response: HttpResponseBase
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        blob = services.file_open(file=stored)
        response = FileResponse(
            blob, as_attachment=True, filename=stored.name, content_type=stored.content_type
        )
        response["Content-Length"] = str(stored.size)
        response["Repr-Digest"] = _repr_digest(stored.sha256)
    response["ETag"] = etag
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-cache"
    return response
