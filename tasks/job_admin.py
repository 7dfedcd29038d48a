"""Jobs and runs in the Django admin: actions call the same services as the API."""

from __future__ import annotations

from django.contrib import admin, messages

from taskplatform.api.errors import ApplicationError

from .jobs import services
from .models import Job, JobRun


def _job_action(service, done: str):
    def action(modeladmin, request, queryset):
        ok = 0
        for job in queryset:
            try:
                service(job=job, actor=request.user)
                ok += 1
            except ApplicationError as exc:
                modeladmin.message_user(request, f"{job}: {exc.message}", messages.WARNING)
        if ok:
            modeladmin.message_user(request, f"{ok} job(s) {done}.")

    return action


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "owner",
        "kind",
        "status",
        "next_run_at",
        "last_run_status",
        "last_run_finished",
        "consecutive_failures",
    )
    list_filter = ("status", "kind", ("owner", admin.RelatedOnlyFieldListFilter), "created_at")
    search_fields = ("name", "owner__email")
    date_hierarchy = "created_at"
    list_select_related = ("owner", "last_run")
    actions = ["pause", "resume", "cancel", "run_now"]

    # edits go through the services (validation, next_run_at, audit): the admin shows
    # jobs and acts on them, it does not edit their fields
    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="last run")
    def last_run_status(self, job: Job) -> str:
        return job.last_run.status if job.last_run else "—"

    @admin.display(description="last run finished")
    def last_run_finished(self, job: Job):
        return job.last_run.finished_at if job.last_run else None

    pause = admin.action(description="Pause selected jobs")(
        _job_action(services.job_pause, "paused")
    )
    resume = admin.action(description="Resume selected jobs")(
        _job_action(services.job_resume, "resumed")
    )
    cancel = admin.action(description="Cancel selected jobs")(
        _job_action(services.job_cancel, "cancelled")
    )
    run_now = admin.action(description="Run selected jobs now")(
        _job_action(services.job_run_now, "queued to run now")
    )


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "job",
        "status",
        "trigger",
        "attempt",
        "scheduled_for",
        "started_at",
        "finished_at",
    )
    list_filter = ("status", "trigger", "job__kind", "scheduled_for")
    search_fields = ("job__name", "job__owner__email", "error")
    date_hierarchy = "scheduled_for"
    list_select_related = ("job",)

    # runs are history: read only
    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
