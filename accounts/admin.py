from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.core.exceptions import PermissionDenied

from taskplatform.admin_tools import apply_service
from taskplatform.exceptions import ApplicationError

from . import services
from .models import User


class EmailUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name")


class EmailUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = EmailUserChangeForm
    add_form = EmailUserCreationForm
    ordering = ("email",)
    list_display = ("email", "full_name", "is_active", "is_staff", "date_joined", "last_login")
    list_filter = ("is_active", "is_staff", "is_superuser", "date_joined")
    search_fields = ("email", "full_name")
    date_hierarchy = "date_joined"
    readonly_fields = ("date_joined", "last_login")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name", "timezone")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("date_joined", "last_login")}),
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
    actions = ["deactivate", "activate"]

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

    # deleting goes through the service: tasks, jobs, files and their blobs go together
    def delete_model(self, request, obj):
        try:
            services.user_delete(user=obj, actor=request.user)
        except ApplicationError as exc:  # yourself, a superuser, storage down: say why
            raise PermissionDenied(exc.message) from exc

    def delete_queryset(self, request, queryset):
        apply_service(self, request, queryset, services.user_delete, "deleted")
