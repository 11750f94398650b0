from django.utils.translation import gettext_lazy as _

from c4ang.errors import Conflict, NotFound


class SagaNotFound(NotFound):
    code = "saga_not_found"
    message = _("Saga not found.")


class SagaBusy(Conflict):
    code = "saga_busy"
    message = _("The saga is being run right now; try again shortly.")


class SagaNotRetryable(Conflict):
    code = "saga_not_retryable"
    message = _("Only a saga that is still running, compensating or failed can be retried.")


class SagaNotCompensable(Conflict):
    code = "saga_not_compensable"
    message = _("This saga cannot be compensated in its current state.")


class SagaNotWaiting(Conflict):
    code = "saga_not_waiting"
    message = _("The saga is not waiting for an external event.")
