from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from taskplatform.admin_tools import apply_service
from taskplatform.exceptions import ApplicationError

from . import services
from .models import User
from .verification import user_email_verify


class EmailVerifiedFilter(admin.SimpleListFilter):
    title = "email verified"
    parameter_name = "email_verified"

    def lookups(self, request, model_admin):
        return (("yes", "Yes"), ("no", "No"))

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(email_verified_at__isnull=self.value() == "no")
        return queryset


class EmailUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name")

    def save(self, commit=True):
        # an operator made it: trusted like create_user's, no verification needed
        self.instance.email_verified_at = timezone.now()
        return super().save(commit=commit)


class EmailUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = EmailUserChangeForm
    add_form = EmailUserCreationForm
    ordering = ("email",)
    list_display = (
        "email",
        "full_name",
        "is_active",
        "is_staff",
        "email_verified_at",
        "date_joined",
        "last_login",
    )
    list_filter = ("is_active", "is_staff", "is_superuser", EmailVerifiedFilter, "date_joined")
    search_fields = ("email", "full_name")
    date_hierarchy = "date_joined"
    readonly_fields = ("date_joined", "last_login", "email_verified_at")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name", "timezone")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("date_joined", "last_login", "email_verified_at")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "full_name", "password1", "password2"),
            },
        ),
    )
    actions = ["deactivate", "activate", "mark_email_verified"]

    @admin.action(
        description="Deactivate selected users (revoke tokens, pause jobs)",
        permissions=["change"],
    )
    def deactivate(self, request, queryset):
        apply_service(self, request, queryset, services.user_deactivate, "deactivated")

    @admin.action(
        description="Activate selected users (their jobs stay paused)", permissions=["change"]
    )
    def activate(self, request, queryset):
        apply_service(self, request, queryset, services.user_activate, "activated")

    @admin.action(description="Mark email address verified", permissions=["change"])
    def mark_email_verified(self, request, queryset):
        # through the service: the held mail goes out, the welcome email once
        apply_service(self, request, queryset, user_email_verify, "marked verified")

    # deleting goes through the service: tasks, jobs, files and their blobs go together
    def delete_model(self, request, obj):
        try:
            services.user_delete(user=obj, actor=request.user)
        except ApplicationError as exc:  # yourself, a superuser, storage down: say why
            raise PermissionDenied(exc.message) from exc

    def delete_queryset(self, request, queryset):
        apply_service(self, request, queryset, services.user_delete, "deleted")
