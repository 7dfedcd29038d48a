import pytest
from django.contrib.auth.models import Permission

from conftest import _client_for
from files.tests.conftest import media  # noqa: F401

OPERATOR_PERMS = ["change_user", "delete_user", "change_job"]


@pytest.fixture
def ops_client(staff_user):
    """Staff with the model permissions the admin API's changes need."""
    staff_user.user_permissions.add(*Permission.objects.filter(codename__in=OPERATOR_PERMS))
    return _client_for(staff_user)
