from __future__ import annotations

from collections.abc import Iterator

import pytest

from notifications import delivery


@pytest.fixture(autouse=True)
def _fresh_mail_connection() -> Iterator[None]:
    delivery.close_connection()
    yield
    delivery.close_connection()
