"""Sending through Django's mail API, so the backend (SMTP, anymail, files) is configuration.

A worker process keeps one backend connection open and reuses it for every message it
sends, reconnecting once when the server has dropped it.

Attachments are built when the message is, by a builder an app registers for a kind
(`register_attachments`, from its `ready()`, as context loaders are): notifications never
import the apps whose mails they send. A builder reads the row (`notification.context`
holds what the app stored) and raises ContextGone when what the mail was about is gone;
the sender then records the row as not sent, as it does for a context that can't be loaded.
"""

from __future__ import annotations

import logging
import re
import smtplib
import socket
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import make_msgid
from typing import TYPE_CHECKING

from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused, AnymailRequestsAPIError
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

from taskplatform.exceptions import ApplicationError

from .unsubscribe_tokens import UNSUBSCRIBE_PATH, has_unsubscribe, token_read

if TYPE_CHECKING:
    from .models import Notification

log = logging.getLogger(__name__)

_connection = None
_connection_key: tuple | None = None


def _settings_key() -> tuple:
    return (settings.EMAIL_BACKEND, settings.EMAIL_HOST, settings.EMAIL_PORT)


def _open_connection():
    global _connection, _connection_key
    if _connection is None or _connection_key != _settings_key():
        close_connection()
        _connection = get_connection(fail_silently=False)
        _connection.open()
        _connection_key = _settings_key()
    return _connection


def close_connection() -> None:
    global _connection, _connection_key
    if _connection is not None:
        try:
            _connection.close()
        except Exception:  # a dead connection may fail to close: it is dropped either way
            log.debug("closing the mail connection failed", exc_info=True)
    _connection = None
    _connection_key = None


# the footer's link (templates/email/base.txt); a signed token has no other characters
_UNSUBSCRIBE_LINK = re.compile(re.escape(UNSUBSCRIBE_PATH) + r"\?token=([A-Za-z0-9_\-:.]+)")


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    # may carry parameters, e.g. "text/calendar; method=REQUEST" (iTIP wants the method there)
    mimetype: str


# kind -> builder(notification) -> [Attachment, ...] (raising ContextGone); apps register
# theirs in ready()
_attachment_builders: dict[str, Callable[[Notification], list[Attachment]]] = {}


def register_attachments(kind: str, builder: Callable[[Notification], list[Attachment]]) -> None:
    _attachment_builders[kind] = builder


def attachments_for(notification: Notification) -> list[Attachment]:
    builder = _attachment_builders.get(notification.kind)
    return builder(notification) if builder else []


def build_message(notification: Notification) -> EmailMultiAlternatives:
    headers = {
        "Message-ID": notification.provider_message_id
        or make_msgid(domain=settings.EMAIL_MESSAGE_ID_DOMAIN),
        **unsubscribe_headers(notification),
    }
    message = EmailMultiAlternatives(
        subject=notification.subject,
        body=notification.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.to_email],
        headers=headers,
    )
    if notification.body_html:
        message.attach_alternative(notification.body_html, "text/html")
    for attachment in attachments_for(notification):
        message.attach(attachment.filename, attachment.content, attachment.mimetype)
    return message


def unsubscribe_headers(notification: Notification) -> dict[str, str]:
    """RFC 8058 one-click unsubscribe for every mail that isn't about the account itself.

    The link is the one rendering put in the footer: only rendering knew what the mail was
    about (a job mail names its job; rows keep no context), and so the header and the
    footer always turn off the same thing. The footer's link is the last one in the text
    (what a user wrote, a task title, comes before it), and it counts only when its
    signature holds for this recipient. A row rendered before links existed gets none.
    """
    if not has_unsubscribe(notification.kind) or notification.user_id is None:
        return {}
    found = _UNSUBSCRIBE_LINK.findall(notification.body_text or "")
    if not found:
        return {}
    try:
        if token_read(found[-1]).user_id != notification.user_id:
            return {}
    except ApplicationError:
        return {}
    return {
        "List-Unsubscribe": f"<{settings.SITE_URL}{UNSUBSCRIBE_PATH}?token={found[-1]}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


class ServerUnreachable(Exception):
    """The mail server could not be reached, so no message was handed over: not the message's
    fault, and no reason to spend one of its attempts."""


def _connect():
    try:
        return _open_connection()
    except (OSError, smtplib.SMTPException) as exc:  # refused, timed out, no such host, TLS…
        close_connection()
        if isinstance(exc, smtplib.SMTPException):
            # the server answered but won't take mail from us (a login or TLS refused): not
            # an outage that passes by itself — someone has to fix the configuration
            log.error("the mail server refuses us; emails wait until it is fixed: %s", exc)
        raise ServerUnreachable(f"{type(exc).__name__}: {exc}") from exc


def send(message: EmailMultiAlternatives) -> str:
    """Send one message on the shared connection; returns the provider's message id."""
    try:
        _connect().send_messages([message])
    except (TimeoutError, smtplib.SMTPServerDisconnected, ConnectionError):
        close_connection()  # the server dropped an idle connection: one fresh try
        _connect().send_messages([message])
    status = getattr(message, "anymail_status", None)
    return (getattr(status, "message_id", None) or message.extra_headers["Message-ID"])[:255]


def is_unreachable(exc: BaseException) -> bool:
    """The server (or provider's API) could not be reached at all, or refuses us: the
    provider's API answering 401 / 403 (a wrong or revoked key, a key without the Mail Send
    permission) is the SMTP login refused — someone has to fix the configuration, and no
    message's attempts are spent meanwhile."""
    if isinstance(exc, ServerUnreachable):
        return True
    if not isinstance(exc, AnymailRequestsAPIError):
        return False
    code = getattr(exc, "status_code", 0)
    if code in (401, 403):
        log.error("the email provider refuses us (%s); emails wait until it is fixed", code)
        return True
    return code is None


def is_transient(exc: BaseException) -> bool:
    """Worth retrying later (server busy or unreachable) rather than failing for good."""
    if isinstance(exc, ServerUnreachable):
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError)):
        return True
    if isinstance(exc, AnymailRecipientsRefused):
        return False
    if isinstance(exc, AnymailRequestsAPIError):
        code = getattr(exc, "status_code", None)
        return code is None or code == 429 or code >= 500
    if isinstance(exc, AnymailAPIError):
        return False
    return isinstance(exc, (ConnectionError, TimeoutError, socket.gaierror))
