import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from saga.constants import SagaEventType, SagaStatus

# The payloads hold domain errors' messages, lazily translated: DjangoJSONEncoder stores them as read
# in the language active when they are written (the request's or the job's).


class SagaInstance(models.Model):
    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False, db_column="saga_id")
    saga_type = models.CharField(_("saga type"), max_length=50)
    status = models.CharField(_("status"), max_length=15, choices=SagaStatus.choices, default=SagaStatus.STARTED)
    payload = models.JSONField(_("payload"), default=dict, encoder=DjangoJSONEncoder)
    current_step = models.PositiveSmallIntegerField(_("current step"), default=0)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # A runner holds the lease while it works; recovery takes over sagas whose lease has expired.
    lease_expires_at = models.DateTimeField(_("lease expires"), null=True, blank=True)
    # The runner that holds the lease ("" when none does): a runner that lost its lease stops writing.
    lease_owner = models.CharField(_("lease owner"), max_length=32, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        db_table = "saga_instances"
        verbose_name = _("saga")
        verbose_name_plural = _("sagas")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "lease_expires_at"], name="saga_status_lease_idx"),
            models.Index(fields=["saga_type", "status"], name="saga_type_status_idx"),
            models.Index(fields=["created_at"], name="saga_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.saga_type} {self.id} ({self.get_status_display()})"


class SagaEvent(models.Model):
    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False, db_column="event_id")
    saga = models.ForeignKey(SagaInstance, on_delete=models.CASCADE, related_name="events", verbose_name=_("saga"))
    step = models.CharField(_("step"), max_length=50)
    event_type = models.CharField(_("event type"), max_length=25, choices=SagaEventType.choices)
    payload = models.JSONField(_("payload"), default=dict, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        db_table = "saga_events"
        verbose_name = _("saga event")
        verbose_name_plural = _("saga events")
        ordering = ["created_at"]
        indexes = [models.Index(fields=["saga", "created_at"], name="saga_events_saga_created_idx")]

    def __str__(self) -> str:
        return f"{self.step} {self.get_event_type_display()}"
