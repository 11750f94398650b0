from c4ang.errors import Conflict, NotFound


class SagaNotFound(NotFound):
    code = "saga_not_found"
    message = "Saga not found."


class SagaBusy(Conflict):
    code = "saga_busy"
    message = "The saga is being run right now; try again shortly."


class SagaNotRetryable(Conflict):
    code = "saga_not_retryable"
    message = "Only a saga that is still running, compensating or failed can be retried."


class SagaNotCompensable(Conflict):
    code = "saga_not_compensable"
    message = "This saga cannot be compensated in its current state."


class SagaNotWaiting(Conflict):
    code = "saga_not_waiting"
    message = "The saga is not waiting for an external event."
