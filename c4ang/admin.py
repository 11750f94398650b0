from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from c4ang.admin_actions import NoDeleteMixin
from c4ang.models import JobRun


@admin.register(JobRun)
class JobRunAdmin(NoDeleteMixin, admin.ModelAdmin):
    """Job runs are written by the jobs only: staff read them here."""

    list_display = ["job", "status", "trigger", "started_at", "duration", "message"]
    list_filter = ["job", "status", "trigger"]
    date_hierarchy = "started_at"
    fields = ["job", "status", "trigger", "started_at", "finished_at", "step_durations", "counts", "message"]
    readonly_fields = fields

    @admin.display(description=_("message"))
    def message(self, run: JobRun) -> str:
        return run.message

    @admin.display(description=_("duration (s)"))
    def duration(self, run: JobRun) -> str:
        return "—" if run.duration_s is None else f"{run.duration_s:.1f}"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
