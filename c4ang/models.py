import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class JobRun(models.Model):
    """One run of a batch job (the daily recommendations, the weekly sentiment analysis)."""

    class Status(models.TextChoices):
        RUNNING = "RUNNING", _("Running")
        SUCCEEDED = "SUCCEEDED", _("Succeeded")
        SKIPPED = "SKIPPED", _("Skipped")
        FAILED = "FAILED", _("Failed")

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    job = models.CharField(_("job"), max_length=100)
    trigger = models.CharField(_("trigger"), max_length=20, help_text="What started the run: schedule or command.")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    step_durations = models.JSONField(
        _("step durations"), default=list, blank=True, help_text='[{"step": name, "seconds": s}, ...] in run order.'
    )
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    reason = models.CharField(
        _("reason"), max_length=50, blank=True, help_text="Why the run was skipped or failed: a code (c4ang.jobs)."
    )
    reason_params = models.JSONField(_("reason parameters"), default=dict, blank=True)

    class Meta:
        db_table = "job_runs"
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["job", "-started_at"], name="job_runs_job_started_idx"),
            models.Index(fields=["job", "status"], name="job_runs_job_status_idx"),
        ]
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")

    def __str__(self) -> str:
        # Staff read it (the admin's titles and breadcrumbs): the start in KST, the status's label.
        return f"{self.job} {timezone.localtime(self.started_at):%Y-%m-%d %H:%M} {self.get_status_display()}"

    @property
    def message(self) -> str:
        """Why the run was skipped or failed, in the active language."""
        from c4ang.jobs import job_reason_text  # the reasons' texts live with the jobs (and theirs with their apps)

        return job_reason_text(self.reason, self.reason_params)

    @property
    def duration_s(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class CacheInvalidation(models.Model):
    """Cached copies that a committed write made stale, until the cache has dropped them (c4ang.cache).

    Written in the write's own transaction and deleted once the drop is done: a row left over is a
    drop that failed (the cache unreachable or hung) or never ran (the process died after the
    commit), and readers apply it before they serve from the cache again."""

    id = models.BigAutoField(_("ID"), primary_key=True)
    keys = models.JSONField(_("cache keys"), default=list, help_text="Cache keys to delete.")
    versions = models.JSONField(
        _("version counters"), default=list, help_text="Version counters to bump (entries too many to find)."
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        db_table = "cache_invalidations"
        verbose_name = _("cache invalidation")
        verbose_name_plural = _("cache invalidations")

    def __str__(self) -> str:
        return f"{len(self.keys)} keys, {len(self.versions)} versions, since {self.created_at:%Y-%m-%d %H:%M:%S}"
