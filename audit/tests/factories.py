import factory

from audit.models import AuditEvent


class AuditEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AuditEvent

    action = "user.login"
    actor_email = factory.LazyAttribute(lambda o: o.actor.email if o.actor else "")
