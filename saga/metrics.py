from prometheus_client import Counter

SAGAS_COMPLETED = Counter("c4ang_saga_completed_total", "Sagas that completed every step.", ["saga_type"])
SAGAS_COMPENSATED = Counter("c4ang_saga_compensated_total", "Sagas whose compensations all ran.", ["saga_type"])
SAGAS_FAILED = Counter(
    "c4ang_saga_failed_total", "Sagas whose compensation kept failing (staff must act).", ["saga_type"]
)
