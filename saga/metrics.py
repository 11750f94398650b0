import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import Counter, Histogram

from c4ang import tracing

SAGAS_COMPLETED = Counter("c4ang_saga_completed_total", "Sagas that completed every step.", ["saga_type"])
SAGAS_COMPENSATED = Counter("c4ang_saga_compensated_total", "Sagas whose compensations all ran.", ["saga_type"])
SAGAS_FAILED = Counter(
    "c4ang_saga_failed_total", "Sagas whose compensation kept failing (staff must act).", ["saga_type"]
)
SAGA_DURATION = Histogram(
    "c4ang_saga_duration_seconds",
    "From a saga's start to its end (completed, compensated or failed), recovery included.",
    ["saga_type", "outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600),
)
SAGA_STEP_DURATION = Histogram(
    "c4ang_saga_step_duration_seconds",
    "One run of a saga step's action or compensation, by outcome (ok, failed: a domain error, crashed).",
    ["saga_type", "step", "phase", "outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


@contextmanager
def step_observed(*, saga_type: str, step: str, phase: str, failure: type[Exception]) -> Iterator[None]:
    """Time (and trace) one run of a step's `phase` (action or compensation); `failure` is a domain error."""
    started = time.perf_counter()
    outcome = "crashed"
    with tracing.span(f"saga.{phase} {step}", **{"saga.type": saga_type, "saga.step": step}):
        try:
            yield
            outcome = "ok"
        except failure:
            outcome = "failed"
            raise
        finally:
            SAGA_STEP_DURATION.labels(saga_type=saga_type, step=step, phase=phase, outcome=outcome).observe(
                time.perf_counter() - started
            )
