"""Meetings HTTP endpoints: validate, call a service, serialize."""

from __future__ import annotations

from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from meetings import selectors, services
from meetings.models import Meeting, Participant
from taskplatform.api.caller import caller

from .serializers import (
    FeedSerializer,
    MeetingDetailSerializer,
    MeetingSerializer,
    MeetingUpdateSerializer,
    MeetingWriteSerializer,
    RemindedSerializer,
    RespondSerializer,
)

_PEOPLE = Prefetch("participants", queryset=Participant.objects.select_related("user"))


class MeetingViewSet(viewsets.GenericViewSet):
    """Meetings the caller organizes or is invited to (another's meeting answers 404)."""

    queryset = Meeting.objects.none()  # for the schema; requests use get_queryset
    serializer_class = MeetingSerializer
    lookup_value_converter = "id"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Meeting.objects.none()
        return (
            selectors.meeting_list(user=caller(self.request))
            .select_related("organizer")
            .prefetch_related(_PEOPLE)
            .order_by("starts_at", "id")
        )

    def _out(self, meeting: Meeting, code=status.HTTP_200_OK) -> Response:
        meeting = self.get_queryset().get(pk=meeting.pk)
        return Response(
            MeetingDetailSerializer(meeting, context={"request": self.request}).data, status=code
        )

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(MeetingSerializer(page, many=True).data)

    @extend_schema(responses={200: MeetingDetailSerializer})
    def retrieve(self, request, pk=None):
        return Response(
            MeetingDetailSerializer(self.get_object(), context={"request": request}).data
        )

    @extend_schema(request=MeetingWriteSerializer, responses={201: MeetingDetailSerializer})
    def create(self, request):
        form = MeetingWriteSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        meeting = services.meeting_create(organizer=caller(request), **form.validated_data)
        return self._out(meeting, status.HTTP_201_CREATED)

    @extend_schema(request=MeetingUpdateSerializer, responses={200: MeetingDetailSerializer})
    def partial_update(self, request, pk=None):
        form = MeetingUpdateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        meeting = services.meeting_update(
            meeting=self.get_object(), actor=caller(request), **form.validated_data
        )
        return self._out(meeting)

    @extend_schema(request=None, responses={200: MeetingDetailSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        meeting = services.meeting_cancel(meeting=self.get_object(), actor=caller(request))
        return self._out(meeting)

    @extend_schema(request=None, responses={200: RemindedSerializer})
    @action(detail=True, methods=["post"])
    def remind(self, request, pk=None):
        """The organizer emails everyone who hasn't declined a reminder, now (once in any
        10 minutes)."""
        queued = services.meeting_remind(
            meeting=self.get_object(), actor=caller(request), now=timezone.now()
        )
        return Response({"queued": queued})

    @extend_schema(request=RespondSerializer, responses={200: MeetingDetailSerializer})
    @action(detail=True, methods=["post"])
    def respond(self, request, pk=None):
        form = RespondSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        meeting = self.get_object()
        services.meeting_respond(meeting=meeting, user=caller(request), **form.validated_data)
        return self._out(meeting)

    @extend_schema(request=None, responses={200: FeedSerializer})
    @action(detail=False, methods=["get"])
    def feed(self, request):
        """Your calendar feed's address (iCalendar, for calendar apps: no sign-in needed, so
        keep it to yourself; `feed/rotate/` replaces it)."""
        return self._feed(request, services.feed_token(user=caller(request)))

    @extend_schema(request=None, responses={200: FeedSerializer})
    @action(detail=False, methods=["post"], url_path="feed/rotate")
    def feed_rotate(self, request):
        """A new feed address; the old one stops working."""
        return self._feed(request, services.feed_token_rotate(user=caller(request)))

    def _feed(self, request, token) -> Response:
        path = reverse("calendar-feed", kwargs={"secret": token.secret})
        return Response({"url": request.build_absolute_uri(path)})

    @extend_schema(responses={200: MeetingSerializer(many=True)})
    @action(detail=False, methods=["get"])
    def upcoming(self, request):
        meetings = (
            selectors.meetings_upcoming(user=caller(request), now=timezone.now())
            .select_related("organizer")
            .prefetch_related(_PEOPLE)
        )
        page = self.paginate_queryset(meetings)
        return self.get_paginated_response(MeetingSerializer(page, many=True).data)
