import uuid

from django.db import models


class JobRun(models.Model):
    """One run of a batch job (the daily recommendations, the weekly sentiment analysis)."""

    class Status(models.TextChoices):
        RUNNING = "RUNNING"
        SUCCEEDED = "SUCCEEDED"
        SKIPPED = "SKIPPED"
        FAILED = "FAILED"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    job = models.CharField(max_length=100)
    trigger = models.CharField(max_length=20, help_text="What started the run: schedule or command.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    step_durations = models.JSONField(
        default=list, blank=True, help_text='[{"step": name, "seconds": s}, ...] in run order.'
    )
    counts = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True, help_text="Why the run was skipped, or how it failed.")

    class Meta:
        db_table = "job_runs"
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["job", "-started_at"], name="job_runs_job_started_idx"),
            models.Index(fields=["job", "status"], name="job_runs_job_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.job} {self.started_at:%Y-%m-%d %H:%M} {self.status}"

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

    id = models.BigAutoField(primary_key=True)
    keys = models.JSONField(default=list, help_text="Cache keys to delete.")
    versions = models.JSONField(default=list, help_text="Version counters to bump (entries too many to find).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "cache_invalidations"

    def __str__(self) -> str:
        return f"{len(self.keys)} keys, {len(self.versions)} versions, since {self.created_at:%Y-%m-%d %H:%M:%S}"
