"""Receive a multipart upload while it streams in: SHA-256, size limit and type sniffing.

The body is read once, in 1 MiB chunks, and parsed by streaming-form-data (a C parser:
Django's pure-Python MultiPartParser alone tops out at about half the speed the socket
delivers). Each chunk of the file is hashed and written to a temporary file by a helper
thread — hashlib and file writes release the GIL, so hashing overlaps reading the next
chunk — through a small bounded queue: the file is never held whole in memory, and never
read a second time to hash it. Past the size limit reading stops at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import queue
import threading
from dataclasses import dataclass

from django.conf import settings
from django.core.files import File
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.http import HttpRequest
from streaming_form_data import StreamingFormDataParser
from streaming_form_data.parser import ParseFailedException, parse_content_boundary
from streaming_form_data.targets import BaseTarget

from taskplatform.exceptions import ApplicationError

from .names import sanitize_name
from .sniff import SNIFF_BYTES

CHUNK = 1024 * 1024
QUEUE_CHUNKS = 8  # at most this many chunks wait to be hashed: bounds memory
MULTIPART_SLACK = 64 * 1024  # framing around the file, for the Content-Length pre-check
MAX_FIELD_BYTES = 1024


class UploadTooLarge(Exception):
    pass


def _malformed(message: str) -> ApplicationError:
    # ApplicationError, not DRF's ParseError: the web app reads uploads here too, without DRF
    return ApplicationError(message, code="malformed_request")


def _too_large_error() -> ApplicationError:
    limit = settings.FILES_MAX_UPLOAD_BYTES
    return ApplicationError(
        f"The file is larger than the {limit} bytes allowed.",
        code="file_too_large",
        details={"max_bytes": limit},
    )


class _HashingWriter:
    """Hashes and writes chunks, in order, on a helper thread."""

    def __init__(self, file: File) -> None:
        self.file = file
        self.digest = hashlib.sha256()
        self.error: BaseException | None = None
        self.queue: queue.Queue[bytes | None] = queue.Queue(maxsize=QUEUE_CHUNKS)
        self.thread = threading.Thread(target=self._run, name="upload-hasher", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (chunk := self.queue.get()) is not None:
            if self.error is None:
                try:
                    self.digest.update(chunk)
                    self.file.write(chunk)
                except BaseException as exc:  # reported by finish()
                    self.error = exc

    def put(self, chunk: bytes) -> None:
        self.queue.put(chunk)

    def finish(self) -> str:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error
        return self.digest.hexdigest()


class _FileTarget(BaseTarget):
    def __init__(self, max_bytes: int) -> None:
        super().__init__()
        self.max_bytes = max_bytes
        self.received = 0
        self.head = b""
        self.file: TemporaryUploadedFile | None = None
        self.writer: _HashingWriter | None = None
        self.sha256 = ""

    def on_start(self) -> None:
        if self.file is not None:  # a second "file" part: keep the first only
            raise ParseFailedException("Send one file per request.")
        self.file = TemporaryUploadedFile(
            sanitize_name(self.multipart_filename), "application/octet-stream", 0, None
        )
        self.writer = _HashingWriter(self.file)

    def on_data_received(self, chunk: bytes) -> None:
        self.received += len(chunk)
        if self.received > self.max_bytes:
            raise UploadTooLarge
        if len(self.head) < SNIFF_BYTES:
            self.head += chunk[: SNIFF_BYTES - len(self.head)]
        assert self.writer is not None  # the parser starts a part (on_start) before its data
        self.writer.put(chunk)

    def on_finish(self) -> None:
        assert self.file is not None and self.writer is not None  # on_start ran
        self.sha256 = self.writer.finish()
        self.writer = None
        self.file.size = self.received
        self.file.flush()
        self.file.seek(0)

    def abort(self) -> None:
        if self.writer is not None:
            with contextlib.suppress(BaseException):  # the upload is thrown away anyway
                self.writer.finish()
        if self.file is not None:
            self.file.close()


class _SmallValueTarget(BaseTarget):
    def __init__(self) -> None:
        super().__init__()
        self.value = b""

    def on_data_received(self, chunk: bytes) -> None:
        self.value += chunk
        if len(self.value) > MAX_FIELD_BYTES:
            raise ParseFailedException("A form field is too long.")


@dataclass
class ReceivedUpload:
    file: TemporaryUploadedFile | None
    sha256: str
    head: bytes
    expected_sha256: str | None
    # the name the client sent, as sent: "" is a browser's form with no file chosen
    filename: str | None = None

    def close(self) -> None:
        """Delete the temporary file (a no-op once storage has moved it away)."""
        if self.file is not None:
            self.file.close()


class _CloseDelimiterWatch:
    """Sees whether the body carried the closing delimiter after a part (it may straddle
    chunks): the parser takes a body cut short between parts, or an empty one, silently."""

    def __init__(self, boundary: bytes) -> None:
        self.ender = b"\r\n--" + boundary + b"--"
        # the body's start counts as a line start: "--boundary--" alone (no parts, as
        # Django's and other clients send an empty form) is whole, and then a 400 for the
        # missing file field
        self.tail = b"\r\n"
        self.seen = False

    def feed(self, chunk: bytes, *, inside_part: bool) -> None:
        """`inside_part`: one part's data ran from the chunk's start to its end, so the parser
        found no delimiter in it and only its edges need a look (searching every MiB of a
        file again would cost a quarter of what hashing it does)."""
        if not self.seen:
            edge = len(self.ender)
            self.seen = self.ender in self.tail + chunk[:edge] or (
                not inside_part and self.ender in chunk
            )
            self.tail = (self.tail + chunk[-edge:])[-edge:]


def _boundary(content_type: str) -> bytes:
    try:
        return parse_content_boundary({"Content-Type": content_type})
    except (ParseFailedException, ValueError) as exc:
        raise _malformed(f"Malformed multipart body: {exc}.") from None


def _content_length(request: HttpRequest) -> int:
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        raise _malformed("Malformed Content-Length header.") from None


def upload_receive(request: HttpRequest, *, max_bytes: int) -> ReceivedUpload:
    """Read a multipart body with a `file` part (and an optional `sha256` field)."""
    content_type = request.META.get("CONTENT_TYPE", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise ApplicationError(
            f'Unsupported media type "{content_type or "(none)"}" in request.',
            code="unsupported_media_type",
        )
    if _content_length(request) > max_bytes + MULTIPART_SLACK:
        raise _too_large_error()  # refused before reading a byte
    boundary = _boundary(content_type)  # missing or empty: a 400, before reading a byte

    file_target, sha_target = _FileTarget(max_bytes), _SmallValueTarget()
    parser = StreamingFormDataParser(headers={"Content-Type": content_type})
    parser.register("file", file_target)
    parser.register("sha256", sha_target)
    watch = _CloseDelimiterWatch(boundary)
    try:
        while chunk := request.read(CHUNK):
            was_inside = file_target.writer is not None
            parser.data_received(chunk)
            watch.feed(chunk, inside_part=was_inside and file_target.writer is not None)
        if file_target.writer is not None:  # the body ended inside the file part
            raise ParseFailedException("The multipart body ended early.")
        if not watch.seen:
            raise ParseFailedException("The multipart body has no closing boundary.")
    except UploadTooLarge:
        file_target.abort()
        raise _too_large_error() from None
    except (ParseFailedException, ValueError) as exc:
        file_target.abort()
        raise _malformed(f"Malformed multipart body: {exc}") from None
    except BaseException:
        file_target.abort()
        raise

    file = file_target.file if file_target.multipart_filename is not None else None
    if file is None:
        file_target.abort()
    expected = sha_target.value.decode("utf-8", "replace").strip() or None
    return ReceivedUpload(
        file=file,
        sha256=file_target.sha256,
        head=file_target.head,
        expected_sha256=expected,
        filename=file_target.multipart_filename,
    )
