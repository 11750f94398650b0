import uuid

from django.db import models

from saga.constants import SagaEventType, SagaStatus


class SagaInstance(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, db_column="saga_id")
    saga_type = models.CharField(max_length=50)
    status = models.CharField(max_length=15, choices=SagaStatus.choices, default=SagaStatus.STARTED)
    payload = models.JSONField(default=dict)
    current_step = models.PositiveSmallIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    # A runner holds the lease while it works; recovery takes over sagas whose lease has expired.
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # The runner that holds the lease ("" when none does): a runner that lost its lease stops writing.
    lease_owner = models.CharField(max_length=32, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "saga_instances"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "lease_expires_at"], name="saga_status_lease_idx"),
            models.Index(fields=["saga_type", "status"], name="saga_type_status_idx"),
            models.Index(fields=["created_at"], name="saga_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.saga_type} {self.id} ({self.status})"


class SagaEvent(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, db_column="event_id")
    saga = models.ForeignKey(SagaInstance, on_delete=models.CASCADE, related_name="events")
    step = models.CharField(max_length=50)
    event_type = models.CharField(max_length=25, choices=SagaEventType.choices)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "saga_events"
        ordering = ["created_at"]
        indexes = [models.Index(fields=["saga", "created_at"], name="saga_events_saga_created_idx")]

    def __str__(self) -> str:
        return f"{self.step} {self.event_type}"
