import django_filters

from notifications.kinds import Kind
from notifications.models import Notification
from taskplatform.api.filters import ChoiceInFilter


class NotificationFilter(django_filters.FilterSet):
    status = ChoiceInFilter(choices=Notification.Status.choices, help_text="e.g. `sent,failed`")
    kind = ChoiceInFilter(choices=Kind.choices, help_text="e.g. `reminder,job_failed`")

    class Meta:
        model = Notification
        fields = ["status", "kind"]
