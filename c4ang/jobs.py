"""Batch jobs: a lock so that a job never runs twice at once, and a run record of every attempt.

A job is a function of a JobContext. It times its steps with `ctx.step(name)` and records its
numbers with `ctx.count(...)`; raising JobSkipped ends the run as skipped with a warning, any
other exception ends it as failed and propagates to the caller (the Celery task, the command).
The lock lives in the cache: with Redis it holds across every worker and host.

Why a run was skipped or failed is stored as a code and its parameters (JobRun.reason,
reason_params) and shown in the reader's language: the platform's reasons are here, a job's own
are registered by its app (job_reasons_register, in its AppConfig.ready). A failure's is the error
as raised, which is an operator's detail and stays as it was written.
"""

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from tqdm import tqdm

from c4ang import metrics
from c4ang.models import JobRun

logger = logging.getLogger(__name__)


ALREADY_RUNNING = "already_running"
LOCK_UNREACHABLE = "lock_unreachable"
ABANDONED = "abandoned"
ERROR = "error"  # failed: the error as raised (reason_params["error"])
_REASONS: dict[str, Promise] = {
    ALREADY_RUNNING: _("%(job)s was already running: this run was skipped."),
    LOCK_UNREACHABLE: _("%(job)s could not take its lock (the cache is unreachable): this run was skipped."),
    ABANDONED: _("Abandoned: the process running it ended before it finished."),
}


def job_reasons_register(reasons: dict[str, Promise]) -> None:
    """A job's own reasons for a skipped run: code -> text, with %(name)s for each parameter."""
    _REASONS.update(reasons)


def job_reason_text(reason: str, params: dict) -> str:
    """The reason in the active language ("" for none)."""
    if not reason:
        return ""
    if reason == ERROR:
        return params["error"]
    return str(_REASONS[reason]) % params


class JobSkipped(Exception):
    """Raised by a step when there is nothing to do: the run is recorded as skipped, with `reason` (a
    code given to job_reasons_register) and its parameters (JSON values)."""

    def __init__(self, reason: str, **params):
        if reason not in _REASONS:
            raise ValueError(f"{reason!r} is not a registered job reason (job_reasons_register)")
        super().__init__(reason, params)
        self.reason = reason
        self.params = params


class JobContext:
    def __init__(self, run: JobRun, *, progress: bool):
        self.run = run
        self._progress = progress

    @contextmanager
    def step(self, name: str, *, total: int | None = None) -> Iterator[tqdm]:
        """Time one step and record it; yields a progress bar, drawn for a step of known size when the
        run shows progress."""
        started = time.perf_counter()
        with tqdm(total=total, desc=name, unit=" items", disable=not self._progress or total is None) as bar:
            try:
                yield bar
            finally:
                self.run.step_durations.append({"step": name, "seconds": round(time.perf_counter() - started, 3)})
                # Saved after every step, so that the admin shows how far a long run has come.
                JobRun.objects.filter(pk=self.run.pk).update(
                    step_durations=self.run.step_durations, counts=self.run.counts
                )

    def count(self, **counts: int) -> None:
        self.run.counts.update(counts)


def _lock_key(job: str) -> str:
    return f"jobs:lock:{job}"


def _finish(run: JobRun, status: str, reason: str = "", params: dict | None = None) -> None:
    run.status = status
    run.reason = reason
    run.reason_params = params or {}
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "reason", "reason_params", "finished_at", "step_durations", "counts"])
    metrics.JOB_RUNS.labels(job=run.job, status=status.lower()).inc()
    metrics.JOB_DURATION.labels(job=run.job, status=status.lower()).observe(run.duration_s)


def job_run(*, job: str, body: Callable[[JobContext], None], trigger: str, progress: bool = False) -> JobRun:
    """Run `body` as a run of `job` unless a run of it is in progress; returns the run record.

    A run that finds the job running is recorded as skipped. A failing run is recorded as failed,
    then its exception is raised again.
    """
    token = uuid.uuid4().hex
    started_at = timezone.now()
    locked = cache.add(_lock_key(job), token, timeout=settings.JOBS_LOCK_SECONDS)
    if not locked:
        # None: the cache holding the locks is unreachable, so a run elsewhere cannot be ruled out.
        reason = ALREADY_RUNNING if locked is False else LOCK_UNREACHABLE
        logger.warning("job not started; this run is skipped", extra={"job": job, "reason": reason})
        metrics.JOB_RUNS.labels(job=job, status="skipped").inc()
        return JobRun.objects.create(
            job=job,
            trigger=trigger,
            status=JobRun.Status.SKIPPED,
            started_at=started_at,
            finished_at=started_at,
            reason=reason,
            reason_params={"job": job},
        )
    try:
        # Holding the lock, no other run of this job is alive: a run still marked running died with its process.
        JobRun.objects.filter(job=job, status=JobRun.Status.RUNNING).update(
            status=JobRun.Status.FAILED,
            finished_at=started_at,
            reason=ABANDONED,
        )
        run = JobRun.objects.create(job=job, trigger=trigger, started_at=started_at)
        logger.info("job started", extra={"job": job, "run_id": str(run.pk), "trigger": trigger})
        try:
            body(JobContext(run, progress=progress))
        except JobSkipped as skipped:
            _finish(run, JobRun.Status.SKIPPED, skipped.reason, skipped.params)
            logger.warning(
                "job skipped",
                extra={"job": job, "run_id": str(run.pk), "reason": skipped.reason, "params": skipped.params},
            )
        except BaseException as error:
            # Recorded whatever it is (even an interrupt), then raised again for the caller to handle.
            _finish(run, JobRun.Status.FAILED, ERROR, {"error": f"{type(error).__name__}: {error}"})
            logger.error("job failed", extra={"job": job, "run_id": str(run.pk), "error": str(error)})
            raise
        else:
            _finish(run, JobRun.Status.SUCCEEDED)
            logger.info("job finished", extra={"job": job, "run_id": str(run.pk), "counts": run.counts})
        return run
    finally:
        # Released only if still ours: a lock that expired may have been taken by a newer run.
        if cache.get(_lock_key(job)) == token:
            cache.delete(_lock_key(job))


def job_run_report(run: JobRun) -> str:
    """A few lines for an operator: outcome, time per step, counts, message."""
    # The status as its code (SUCCEEDED, FAILED): what scripts reading the output look for.
    names = {"job": run.job, "status": run.status, "id": run.pk, "seconds": run.duration_s}
    if run.duration_s is None:
        lines = [gettext("%(job)s %(status)s (run %(id)s)") % names]
    else:
        lines = [gettext("%(job)s %(status)s in %(seconds).1f s (run %(id)s)") % names]
    lines += [
        f"  {step['step']:<24} " + gettext("%(seconds)9.3f s") % {"seconds": step["seconds"]}
        for step in run.step_durations
    ]
    if run.counts:
        lines.append("  " + ", ".join(f"{name}={value}" for name, value in run.counts.items()))
    if run.message:
        lines.append(f"  {run.message}")
    return "\n".join(lines)


def job_run_latest(*, limit: int) -> list[JobRun]:
    return list(JobRun.objects.order_by("-started_at")[:limit])
