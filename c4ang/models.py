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
