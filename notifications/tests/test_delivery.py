from __future__ import annotations

import smtplib

import pytest
from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused, AnymailRequestsAPIError

from notifications.delivery import is_transient


class _Response:
    def __init__(self, status_code):
        self.status_code = status_code
        self.text = ""
        self.reason = ""

    def json(self):
        return {}


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (smtplib.SMTPServerDisconnected("gone"), True),
        (smtplib.SMTPConnectError(421, b"busy"), True),
        (smtplib.SMTPResponseException(451, b"later"), True),
        (smtplib.SMTPResponseException(550, b"no such user"), False),
        (smtplib.SMTPRecipientsRefused({"a@x": (450, b"greylisted")}), True),
        (smtplib.SMTPRecipientsRefused({"a@x": (550, b"unknown")}), False),
        (ConnectionRefusedError(), True),
        (TimeoutError(), True),
        (AnymailRecipientsRefused(), False),
        (AnymailRequestsAPIError(response=_Response(503)), True),
        (AnymailRequestsAPIError(response=_Response(429)), True),
        (AnymailRequestsAPIError(response=_Response(400)), False),
        (AnymailAPIError("bad request"), False),
        (ValueError("a bug"), False),
    ],
)
def test_errors_are_classified(exc, transient):
    assert is_transient(exc) is transient
