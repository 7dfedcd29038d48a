"""Uploads from the pages: the file input, and the body read as the API reads it.

The body is never parsed by Django's form machinery: files.uploads streams it, hashing as it
goes (see web.views.files.streamed_upload for the CSRF check that makes that possible).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django import forms
from django.conf import settings
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat

from files.uploads import ReceivedUpload, upload_receive
from taskplatform.exceptions import ApplicationError

NO_FILE = "Choose a file to upload."


class UploadForm(forms.Form):
    """Only for showing the input (its label, help and errors): the body is read by
    upload_from, never by this form."""

    file = forms.FileField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = f"Up to {filesizeformat(settings.FILES_MAX_UPLOAD_BYTES)}."


@contextmanager
def upload_from(request: HttpRequest) -> Iterator[ReceivedUpload]:
    """The body's `file` part, streamed in and hashed by files.uploads with the API's limits;
    an ApplicationError (details on `file`) when none was chosen or the body is wrong. Its
    temporary file is gone when the block ends, whatever happened."""
    received = upload_receive(request, max_bytes=settings.FILES_MAX_UPLOAD_BYTES)
    try:
        # a browser sends an empty part with filename="" when no file was chosen
        if received.file is None or not received.filename:
            raise ApplicationError(NO_FILE, code="validation_error", details={"file": [NO_FILE]})
        yield received
    finally:
        received.close()


def upload_errors(form: UploadForm, exc: ApplicationError) -> None:
    """A refused upload's reason on the file input (with the service's words on `file`, if
    any: the accepted types; its other details are numbers, the quota and the size)."""
    found = exc.details.get("file", [])
    more = [text for text in found if isinstance(text, str) and text != exc.message]
    form.cleaned_data = {}  # never cleaned (the body isn't this form's to read): add_error needs it
    form.add_error("file", [exc.message, *more])
