"""The default periodic tasks, kept in django-celery-beat's tables where staff can edit them."""

from django.conf import settings
from django_celery_beat.models import CrontabSchedule, PeriodicTask

# Defaults kept here rather than in settings.C4ANG_PERIODIC_TASKS, which may replace any of them.
DEFAULT_TASKS = {
    # Refunds the PG did not answer are asked again, with their own Idempotency-Key.
    "recover-refunds": {"task": "payments.tasks.recover_refunds", "crontab": {"minute": "*"}},
}


def periodic_tasks_ensure() -> list[str]:
    """Create the default periodic tasks that are missing; leave existing (maybe edited) ones alone."""
    created = []
    for name, spec in {**DEFAULT_TASKS, **settings.C4ANG_PERIODIC_TASKS}.items():
        if PeriodicTask.objects.filter(name=name).exists():
            continue
        crontab, _ = CrontabSchedule.objects.get_or_create(timezone=settings.CELERY_TIMEZONE, **spec["crontab"])
        PeriodicTask.objects.create(name=name, task=spec["task"], crontab=crontab)
        created.append(name)
    return created
