"""The Celery app of the platform: workers and the single beat read the schedule from settings."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "c4ang.settings")

app = Celery("c4ang")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
