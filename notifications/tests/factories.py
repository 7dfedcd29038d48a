"""Notifications for tests, written as rows (no rendering, no publishing): a queued reminder
to its user, due now, unless a test says otherwise."""

from __future__ import annotations

import factory

from accounts.tests.factories import UserFactory
from notifications.kinds import Kind
from notifications.models import Notification


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    user = factory.SubFactory(UserFactory)
    to_email = factory.LazyAttribute(lambda o: o.user.email if o.user else "someone@example.com")
    kind = Kind.REMINDER
    subject = factory.Sequence(lambda n: f"Notification {n}")
    body_text = "t"
