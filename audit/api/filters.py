import django_filters

from audit.models import AuditEvent
from taskplatform.api.filters import DateTimeFilter, IdFilter


class AuditEventFilter(django_filters.FilterSet):
    action = django_filters.CharFilter(help_text="Exact action, e.g. `user.login`.")
    actor = IdFilter(field_name="actor_id", help_text="Actor's user id.")
    target_type = django_filters.CharFilter(help_text="e.g. `accounts.user`.")
    target_id = django_filters.CharFilter()
    since = DateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = DateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = AuditEvent
        fields = ["action", "actor", "target_type", "target_id", "since", "until"]
