from rest_framework import viewsets

from audit.models import AuditEvent
from audit.selectors import audit_event_list
from taskplatform.api.caller import caller

from .filters import AuditEventFilter
from .serializers import AuditEventSerializer


class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """Audit events: staff see all, others the ones they caused. Read only."""

    queryset = AuditEvent.objects.none()  # for the schema; requests use get_queryset
    serializer_class = AuditEventSerializer
    lookup_value_converter = "id"
    filterset_class = AuditEventFilter
    ordering_fields = ["created_at"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AuditEvent.objects.none()
        return audit_event_list(user=caller(self.request))
