import logging

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

from c4ang import metrics, tracing


def _ensure_periodic_tasks(sender, **kwargs) -> None:
    # Once django-celery-beat's tables exist, so do the platform's schedules.
    if sender.name == "django_celery_beat":
        from c4ang.schedules import periodic_tasks_ensure

        periodic_tasks_ensure()


class PlatformConfig(AppConfig):
    name = "c4ang"
    verbose_name = _("Platform")

    def ready(self) -> None:
        post_migrate.connect(_ensure_periodic_tasks, dispatch_uid="c4ang.periodic_tasks")
        # django-redis logs every Redis error it ignores: each one is counted (c4ang_redis_errors_total).
        logging.getLogger("django_redis.cache").addFilter(metrics.RedisErrorCounter())
        # Before Django builds its middleware chain (that follows ready()): the tracing middleware goes in.
        tracing.instrument()
