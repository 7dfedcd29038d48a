import django_filters
from django.core.validators import RegexValidator

from files.models import StoredFile
from taskplatform.api.filters import IdFilter

from .serializers import SHA256_HEX


class FileFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        field_name="name", lookup_expr="icontains", help_text="Part of the file name."
    )
    sha256 = django_filters.CharFilter(
        method="filter_sha256",
        validators=[RegexValidator(SHA256_HEX, "Expected 64 hexadecimal characters.")],
        help_text="Exact SHA-256 (hex).",
    )
    owner = IdFilter(field_name="owner_id", help_text="Owner's user id (staff only).")

    class Meta:
        model = StoredFile
        fields = ["search", "sha256", "owner"]

    def filter_sha256(self, queryset, name, value):
        return queryset.filter(sha256=value.lower())
