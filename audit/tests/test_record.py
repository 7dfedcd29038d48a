from __future__ import annotations

import pytest

from audit.models import AppendOnlyError, AuditEvent
from audit.services import audit_record
from taskplatform.context import client_ip_var, request_id_var

pytestmark = pytest.mark.django_db


def test_record_captures_actor_target_ip_and_request_id(user):
    tokens = (request_id_var.set("req-123"), client_ip_var.set("203.0.113.9"))
    try:
        event = audit_record(actor=user, action="user.login", target=user, details={"k": "v"})
    finally:
        request_id_var.reset(tokens[0])
        client_ip_var.reset(tokens[1])
    assert event.actor == user and event.actor_email == user.email
    assert (event.target_type, event.target_id) == ("accounts.user", str(user.pk))
    assert (event.ip, event.request_id, event.details) == ("203.0.113.9", "req-123", {"k": "v"})
    assert user.email in str(event) and "user.login" in str(event)


def test_an_anonymous_actor_is_recorded_as_the_system():
    from django.contrib.auth.models import AnonymousUser

    event = audit_record(actor=AnonymousUser(), action="user.login_failed")
    assert event.actor is None and event.actor_email == "" and "system" in str(event)


def test_events_cannot_be_changed_or_deleted_through_the_orm(user):
    event = audit_record(actor=user, action="user.login")
    event.action = "user.logout"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "user.login"


def test_deleting_the_actor_keeps_the_event_and_the_email(user):
    event = audit_record(actor=user, action="user.login")
    email = user.email
    user.delete()
    event = AuditEvent.objects.get(pk=event.pk)
    assert event.actor is None and event.actor_email == email
