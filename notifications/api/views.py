from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from notifications import services
from notifications.models import Notification
from notifications.selectors import notification_list
from taskplatform.api.caller import caller

from .filters import NotificationFilter
from .serializers import NotificationSerializer, PreferenceSerializer

TAGS = ["notifications"]


@extend_schema(tags=TAGS)
class NotificationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The caller's notifications, newest first."""

    queryset = Notification.objects.none()  # for the schema; requests use get_queryset
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    ordering_fields = ["created_at", "sent_at"]
    ordering = ["-created_at", "-id"]
    lookup_value_converter = "id"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return notification_list(user=caller(self.request))


class PreferencesView(APIView):
    """What the caller wants to be told about. PUT replaces, PATCH changes some fields."""

    http_method_names = ["get", "put", "patch", "options"]

    @extend_schema(responses={200: PreferenceSerializer}, tags=TAGS)
    def get(self, request):
        return Response(PreferenceSerializer(services.preferences_get(user=caller(request))).data)

    def _update(self, request, *, partial: bool):
        serializer = PreferenceSerializer(
            services.preferences_get(user=caller(request)), data=request.data, partial=partial
        )
        serializer.is_valid(raise_exception=True)
        preference = services.preferences_update(user=caller(request), **serializer.validated_data)
        return Response(PreferenceSerializer(preference).data)

    @extend_schema(request=PreferenceSerializer, responses={200: PreferenceSerializer}, tags=TAGS)
    def put(self, request):
        return self._update(request, partial=False)

    @extend_schema(request=PreferenceSerializer, responses={200: PreferenceSerializer}, tags=TAGS)
    def patch(self, request):
        return self._update(request, partial=True)
