"""The embedded default's mailbox: every email as a file in var/mail/, and a line in the console.

With no mail server configured (`make run`), EMAIL_BACKEND is `MailboxBackend`: each
message is written to its own `.eml` file in EMAIL_FILE_PATH — under a temporary name, then
renamed, so a reader never sees half of one — and logged as one line naming the recipient,
the subject and the first link, so a newcomer can follow a verification link straight from
`make run`'s console. `mailbox_list` and `mailbox_read` read the files back for the
mailbox page (notifications/pages.py).
"""

from __future__ import annotations

import email
import email.policy
import logging
import os
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend

logger = logging.getLogger(__name__)

LINK = re.compile(r"https?://[^\s<>\"')]+")
NAME = re.compile(r"^[0-9]{8}T[0-9]{12}-[0-9a-f]{32}\.eml$")  # what the backend writes


class MailboxBackend(BaseEmailBackend):
    """Django email backend: one `.eml` file per message in EMAIL_FILE_PATH, one log line."""

    def send_messages(self, email_messages) -> int:
        folder = Path(settings.EMAIL_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        for message in email_messages:
            name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex}.eml"
            temporary = folder / f".{name}.tmp"
            temporary.write_bytes(message.message().as_bytes(linesep="\n"))
            os.replace(temporary, folder / name)
            link = first_link(message.body)
            logger.info(
                "mail to %s: %s%s",
                ", ".join(message.recipients()),
                message.subject,
                f"; link: {link}" if link else "",
            )
        return len(email_messages)


def first_link(text: str) -> str:
    match = LINK.search(text or "")
    return match.group(0) if match else ""


@dataclass(frozen=True)
class Mail:
    name: str  # the file's name: the mail's id on the page
    sent_at: datetime
    sender: str
    to: str
    subject: str
    text: str
    html: str
    links: list[str]


def mailbox_list(*, limit: int = 200) -> list[Mail]:
    """The newest `limit` emails, newest first."""
    folder = Path(settings.EMAIL_FILE_PATH)
    names = sorted((p.name for p in folder.glob("*.eml") if NAME.match(p.name)), reverse=True)
    return [_read(folder / name) for name in names[:limit]]


def mailbox_read(*, name: str) -> Mail | None:
    """One email by its file name; None when there is no such file (or the name is not one
    the backend writes: nothing outside the folder can be named)."""
    path = Path(settings.EMAIL_FILE_PATH) / name
    if not NAME.match(name) or not path.is_file():
        return None
    return _read(path)


def _read(path: Path) -> Mail:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    text = _body(message, "plain")
    stamp = path.name.split("-", 1)[0]
    return Mail(
        name=path.name,
        sent_at=datetime.strptime(stamp, "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC),
        sender=str(message["From"] or ""),
        to=str(message["To"] or ""),
        subject=str(message["Subject"] or ""),
        text=text,
        html=_body(message, "html"),
        links=list(dict.fromkeys(LINK.findall(text))),
    )


def _body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    return part.get_content() if part is not None else ""
