"""Values of the saga module that other modules may name."""

from django.db import models


class SagaStatus(models.TextChoices):
    STARTED = "STARTED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    COMPENSATING = "COMPENSATING"
    COMPENSATED = "COMPENSATED"


class SagaEventType(models.TextChoices):
    STEP_STARTED = "STEP_STARTED"
    STEP_COMPLETED = "STEP_COMPLETED"
    STEP_FAILED = "STEP_FAILED"
    STEP_WAITING = "STEP_WAITING"
    COMPENSATION_STARTED = "COMPENSATION_STARTED"
    COMPENSATION_COMPLETED = "COMPENSATION_COMPLETED"
    COMPENSATION_FAILED = "COMPENSATION_FAILED"


class SagaCompensationReason(models.TextChoices):
    """Why the saga module itself compensates a saga.

    A step that failed gives its error's code instead, and the app that asks for a compensation
    (`saga_compensate`, `saga_schedule_compensation`) gives a code of its own.
    """

    RECOVERY_GAVE_UP = "recovery_gave_up"  # its runs kept stopping: out of SAGA_MAX_ATTEMPTS
    STAFF_REQUEST = "staff_request"  # the admin action or the tracker API
