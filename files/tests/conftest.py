from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _own_media(media: Path) -> Path:
    """Every test here gets its own empty local storage and upload temp folder."""
    return media
