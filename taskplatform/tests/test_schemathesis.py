"""Fuzz every operation of the OpenAPI schema in-process, authenticated.

Fails on any 5xx and on any answer that breaks the schema (status code, content type,
body, headers). Endpoints added later are covered without touching this file.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework_simplejwt.tokens import AccessToken
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.tests.factories import UserFactory

# in-process, but 1-2 minutes of generated requests: out of `make test-fast`
pytestmark = pytest.mark.e2e

schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Django closes "old" connections around each WSGI request, which would close the test
    transaction's connection; the test client avoids this the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def token(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        staff = UserFactory(email="fuzz-staff@example.com", is_staff=True)
        yield str(AccessToken.for_user(staff))
        staff.delete()


@pytest.mark.django_db(transaction=False)
@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("SCHEMATHESIS_EXAMPLES", "50")),
    deadline=None,
    # CI replays the same examples every run (a gate must not flip on luck); local runs
    # explore new ones each time
    derandomize=os.environ.get("CI") == "true",
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api_conforms_to_its_schema(case, token):
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
