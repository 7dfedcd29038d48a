from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from accounts.models import User
from taskplatform.testing import client_for

OPERATOR_PERMS = ["change_user", "delete_user", "change_job"]


@pytest.fixture(autouse=True)
def _own_media(media: Path) -> Path:
    """Every test here gets its own empty local storage and upload temp folder."""
    return media


@pytest.fixture
def ops_client(staff_user: User) -> APIClient:
    """Staff with the model permissions the admin API's changes need."""
    staff_user.user_permissions.add(*Permission.objects.filter(codename__in=OPERATOR_PERMS))
    return client_for(staff_user)
