"""Values of the saga module that other modules may name."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class SagaStatus(models.TextChoices):
    STARTED = "STARTED", pgettext_lazy("saga status", "Running")
    COMPLETED = "COMPLETED", pgettext_lazy("saga status", "Completed")
    FAILED = "FAILED", pgettext_lazy("saga status", "Failed")
    COMPENSATING = "COMPENSATING", pgettext_lazy("saga status", "Compensating")
    COMPENSATED = "COMPENSATED", pgettext_lazy("saga status", "Compensated")


class SagaEventType(models.TextChoices):
    STEP_STARTED = "STEP_STARTED", _("Step started")
    STEP_COMPLETED = "STEP_COMPLETED", _("Step completed")
    STEP_FAILED = "STEP_FAILED", _("Step failed")
    STEP_WAITING = "STEP_WAITING", _("Step waiting")
    COMPENSATION_STARTED = "COMPENSATION_STARTED", _("Compensation started")
    COMPENSATION_COMPLETED = "COMPENSATION_COMPLETED", _("Compensation completed")
    COMPENSATION_FAILED = "COMPENSATION_FAILED", _("Compensation failed")


class SagaCompensationReason(models.TextChoices):
    """Why the saga module itself compensates a saga.

    A step that failed gives its error's code instead, and the app that asks for a compensation
    (`saga_compensate`, `saga_schedule_compensation`) gives a code of its own.
    """

    RECOVERY_GAVE_UP = "recovery_gave_up", _("Recovery gave up")  # its runs kept stopping: out of SAGA_MAX_ATTEMPTS
    STAFF_REQUEST = "staff_request", _("Staff request")  # the admin action or the tracker API
