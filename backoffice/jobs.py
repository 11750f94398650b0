"""Staff's "run now" for the batch jobs, outside their schedule."""

import subprocess
import sys

from celery import current_app
from django.conf import settings
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from kombu.exceptions import OperationalError as BrokerUnreachable

from c4ang.errors import DomainError


class JobQueueUnavailable(DomainError):
    code = "job_queue_unavailable"
    http_status = 503
    message = _("The job queue (the Celery broker) cannot be reached: the job was not started; try again later.")


# job name -> (its Celery task, the ops command that runs it in a process of its own)
STARTABLE_JOBS = {
    "daily_recommendation_pipeline": ("recommendations.tasks.daily_recommendation_pipeline", "run_recommendations"),
    "weekly_sentiment_analysis": ("sentiment.tasks.weekly_sentiment_analysis", "run_sentiment"),
}
# What staff read for a job and for what started a run (a run's status has its own labels: JobRun.Status);
# the stored values stay the codes.
JOB_NAMES = {
    "daily_recommendation_pipeline": _("Daily recommendations"),
    "weekly_sentiment_analysis": _("Weekly sentiment analysis"),
}
JOB_TRIGGERS = {
    "schedule": pgettext_lazy("job run", "Schedule"),
    "command": pgettext_lazy("job run", "Command"),
    "admin": pgettext_lazy("job run", "Run now (staff)"),
}


def job_name(job: str) -> str:
    return JOB_NAMES.get(job, job)


def job_start_now(*, job: str) -> str:
    """Start a job outside its schedule (staff's "run now"); returns how it was started, for staff.

    With a worker (a broker), the task is queued for it. Without one (eager, embedded mode), the
    job runs as its own `manage.py` process: never inside the web process, which must not load the
    sentiment model (torch) nor hold a request open for a long job. The job's lock still applies.
    A broker that cannot be reached raises JobQueueUnavailable.
    """
    task, command = STARTABLE_JOBS[job]
    if settings.CELERY_TASK_ALWAYS_EAGER:
        subprocess.Popen(  # noqa: S603 - fixed argv: this interpreter, manage.py, a known command
            [sys.executable, str(settings.BASE_DIR / "manage.py"), command],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        return gettext("started as `manage.py %(command)s`") % {"command": command}
    try:
        current_app.send_task(task, kwargs={"trigger": "admin"})
    except BrokerUnreachable as error:  # after kombu's bounded publish retries (about a second)
        raise JobQueueUnavailable() from error
    return gettext("queued for a Celery worker")
