"""Fixtures shared with other apps' tests: local file storage, SMTP server, real worker."""

from files.tests.conftest import media  # noqa: F401
from notifications.tests.conftest import smtp_server  # noqa: F401
from notifications.tests.test_outbox_end_to_end import (  # noqa: F401
    not_eager,
    private_redis,
    real_worker,
)
