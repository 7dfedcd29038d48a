from django.contrib import admin, messages
from django.template.defaultfilters import filesizeformat

from . import services
from .models import StoredFile


@admin.register(StoredFile)
class StoredFileAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "owner",
        "human_size",
        "content_type",
        "short_sha256",
        "created_at",
        "verified_at",
    )
    list_filter = ("content_type", "created_at", "verified_at")
    search_fields = ("name", "sha256", "owner__email")
    date_hierarchy = "created_at"
    list_select_related = ("owner",)
    readonly_fields = (
        "owner",
        "size",
        "content_type",
        "sha256",
        "storage_key",
        "created_at",
        "updated_at",
        "verified_at",
    )
    fields = ("name", *readonly_fields)
    actions = ["verify_integrity"]

    def has_add_permission(self, request):
        return False  # files arrive through the upload endpoint, hashed while streaming

    @admin.display(description="size", ordering="size")
    def human_size(self, obj):
        return filesizeformat(obj.size)

    @admin.display(description="sha256", ordering="sha256")
    def short_sha256(self, obj):
        return f"{obj.sha256[:12]}…"

    @admin.action(description="Verify integrity (re-hash the stored bytes)")
    def verify_integrity(self, request, queryset):
        corrupted = [
            v.file.name
            for v in (services.file_verify(file=f, actor=request.user) for f in queryset)
            if not v.ok
        ]
        if corrupted:
            self.message_user(request, f"Corrupted: {', '.join(corrupted)}", level=messages.ERROR)
        else:
            self.message_user(request, f"{queryset.count()} file(s) verified: all intact.")

    def delete_model(self, request, obj):
        services.file_delete(file=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            services.file_delete(file=obj, actor=request.user)
