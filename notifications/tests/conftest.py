from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller

from notifications import delivery
from taskplatform.testing import free_port


class RecordingHandler:
    """A real SMTP server's DATA handler: keeps every message; can refuse the first N."""

    def __init__(self) -> None:
        self.messages = []
        self.refuse_next: list[str] = []  # SMTP replies to give instead of accepting

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_next:
            return self.refuse_next.pop(0)
        self.messages.append(envelope)
        return "250 Message accepted"


@pytest.fixture
def smtp_server(settings):
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    handler.port = controller.port
    yield handler
    delivery.close_connection()
    controller.stop()


@pytest.fixture(autouse=True)
def _fresh_mail_connection():
    delivery.close_connection()
    yield
    delivery.close_connection()
