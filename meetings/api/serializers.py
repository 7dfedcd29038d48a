from __future__ import annotations

from rest_framework import serializers

from jobs.api.serializers import OffsetDateTimeField
from meetings.models import Meeting, Participant
from meetings.selectors import meeting_conflicts_seen_by
from meetings.services import MAX_PARTICIPANTS, MAX_REMINDER_MINUTES, MAX_REMINDERS
from taskplatform.validators import validate_one_line


class MeetingWriteSerializer(serializers.Serializer):
    # the shape of a meeting's input; its rules are meetings.services' (a comment: a
    # docstring enters the schema)

    title = serializers.CharField(max_length=200, validators=[validate_one_line])
    description = serializers.CharField(max_length=10_000, required=False, allow_blank=True)
    type = serializers.ChoiceField(choices=Meeting.Type.choices)
    location = serializers.CharField(max_length=300, required=False, allow_blank=True)
    url = serializers.CharField(max_length=500, required=False, allow_blank=True)
    starts_at = OffsetDateTimeField()
    ends_at = OffsetDateTimeField()
    timezone = serializers.CharField(max_length=63, required=False)
    participant_emails = serializers.ListField(
        child=serializers.EmailField(), required=False, max_length=MAX_PARTICIPANTS
    )
    reminder_minutes = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=MAX_REMINDER_MINUTES),
        required=False,
        max_length=MAX_REMINDERS,
    )


class MeetingUpdateSerializer(MeetingWriteSerializer):
    # reminders are each participant's own (respond/): not changed here
    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)
        del self.fields["reminder_minutes"]


class RespondSerializer(serializers.Serializer):
    response = serializers.ChoiceField(choices=["accepted", "declined", "tentative"])
    reminder_minutes = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=MAX_REMINDER_MINUTES),
        required=False,
        max_length=MAX_REMINDERS,
    )


class ParticipantSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email", read_only=True)

    class Meta:
        model = Participant
        fields = ["user_id", "email", "response", "reminder_minutes"]
        read_only_fields = fields


class MeetingSerializer(serializers.ModelSerializer):
    organizer_email = serializers.EmailField(source="organizer.email", read_only=True)
    participants = ParticipantSerializer(many=True, read_only=True)

    class Meta:
        model = Meeting
        fields = [
            "id",
            "title",
            "description",
            "type",
            "location",
            "url",
            "starts_at",
            "ends_at",
            "timezone",
            "status",
            "sequence",
            "organizer_id",
            "organizer_email",
            "participants",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class MeetingDetailSerializer(MeetingSerializer):
    conflicts = serializers.SerializerMethodField(
        help_text="Per double-booked participant (user id): their other meetings overlapping "
        "this one that you may see (an empty list: busy with meetings you can't see)."
    )

    class Meta(MeetingSerializer.Meta):
        fields = [*MeetingSerializer.Meta.fields, "conflicts"]
        read_only_fields = fields

    def get_conflicts(self, meeting) -> dict[str, list[int]]:
        seen = meeting_conflicts_seen_by(meeting=meeting, user=self.context["request"].user)
        return {str(user_id): [m.pk for m in meetings] for user_id, meetings in seen.items()}


class FeedSerializer(serializers.Serializer):
    url = serializers.URLField(read_only=True)


class RemindedSerializer(serializers.Serializer):
    queued = serializers.IntegerField(
        read_only=True, help_text="Participants emailed (or already, in these 10 minutes)."
    )
