"""Batch jobs: one run at a time per job (a lock in the cache), and a run record of every attempt."""

import threading
import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone, translation

from c4ang.errors import DomainError
from c4ang.jobs import ALREADY_RUNNING, JobSkipped, job_reason_text, job_reasons_register, job_run, job_run_report
from c4ang.models import JobRun
from conftest import migrate
from deploy.local.net import free_port

pytestmark = pytest.mark.django_db

# A job's own reason for skipping a run, as an app registers it.
NOTHING_ARRIVED = "nothing_arrived"
job_reasons_register({NOTHING_ARRIVED: "Nothing arrived on %(day)s."})


class ShelfEmpty(DomainError):
    code = "shelf_empty"
    message = "The shelf is empty."


def test_a_run_records_its_steps_counts_and_success():
    def body(ctx):
        with ctx.step("count_shelves"):
            ctx.count(shelves=3)
        with ctx.step("restock", total=2) as bar:
            bar.update(2)
            ctx.count(restocked=2)

    run = job_run(job="restock", body=body, trigger="command")

    run.refresh_from_db()
    assert run.status == JobRun.Status.SUCCEEDED
    assert run.trigger == "command"
    assert [step["step"] for step in run.step_durations] == ["count_shelves", "restock"]
    assert all(step["seconds"] >= 0 for step in run.step_durations)
    assert run.counts == {"shelves": 3, "restocked": 2}
    assert run.message == ""
    assert run.finished_at >= run.started_at


def test_a_run_with_nothing_to_do_is_recorded_as_skipped_with_the_reason():
    def body(ctx):
        with ctx.step("check"):
            ctx.count(found=0)
            raise JobSkipped(NOTHING_ARRIVED, day="2026-12-01")

    run = job_run(job="restock", body=body, trigger="schedule")

    run.refresh_from_db()
    assert run.status == JobRun.Status.SKIPPED
    assert (run.reason, run.reason_params) == (NOTHING_ARRIVED, {"day": "2026-12-01"})
    assert run.message == "Nothing arrived on 2026-12-01."
    assert run.counts == {"found": 0}
    assert [step["step"] for step in run.step_durations] == ["check"]


def test_a_failing_run_is_recorded_then_raised_and_frees_the_lock():
    def body(ctx):
        with ctx.step("restock"):
            raise ShelfEmpty()

    with pytest.raises(ShelfEmpty):
        job_run(job="restock", body=body, trigger="command")

    failed = JobRun.objects.get()
    assert failed.status == JobRun.Status.FAILED
    assert (failed.reason, failed.message) == ("error", "ShelfEmpty: The shelf is empty.")
    assert [step["step"] for step in failed.step_durations] == ["restock"]
    assert job_run(job="restock", body=lambda ctx: None, trigger="command").status == JobRun.Status.SUCCEEDED


def test_a_job_never_runs_twice_at_once():
    inner_runs = []

    def body(ctx):
        # While this run holds the lock, the same job is started again, and another job too.
        inner_runs.append(job_run(job="restock", body=lambda ctx: None, trigger="schedule"))
        inner_runs.append(job_run(job="reprice", body=lambda ctx: None, trigger="schedule"))

    outer = job_run(job="restock", body=body, trigger="command")

    again, other_job = inner_runs
    assert again.status == JobRun.Status.SKIPPED
    assert (again.reason, again.reason_params) == (ALREADY_RUNNING, {"job": "restock"})
    assert again.message == "restock was already running: this run was skipped."
    assert again.step_durations == []
    assert other_job.status == JobRun.Status.SUCCEEDED
    assert outer.status == JobRun.Status.SUCCEEDED
    assert JobRun.objects.filter(job="restock").count() == 2


def test_a_job_does_not_run_when_its_lock_cannot_be_taken(settings):
    # Redis unreachable (nothing listens there), its errors ignored as in every Redis environment.
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"IGNORE_EXCEPTIONS": True},
        }
    }
    ran = []

    run = job_run(job="restock", body=lambda ctx: ran.append(ctx), trigger="schedule")

    assert ran == []
    assert run.status == JobRun.Status.SKIPPED
    assert run.message == "restock could not take its lock (the cache is unreachable): this run was skipped."


def test_the_lock_is_free_again_after_a_run():
    first = job_run(job="restock", body=lambda ctx: None, trigger="command")
    second = job_run(job="restock", body=lambda ctx: None, trigger="command")

    assert (first.status, second.status) == (JobRun.Status.SUCCEEDED, JobRun.Status.SUCCEEDED)
    assert cache.get("jobs:lock:restock") is None


def test_a_lock_that_expired_and_was_taken_by_a_newer_run_is_left_to_it():
    def body(ctx):
        cache.set("jobs:lock:restock", "newer-run")  # our lock expired; a newer run took it

    job_run(job="restock", body=body, trigger="command")

    assert cache.get("jobs:lock:restock") == "newer-run"


def test_a_run_left_running_by_a_dead_process_is_marked_abandoned():
    dead = JobRun.objects.create(job="restock", trigger="schedule", started_at=timezone.now() - timedelta(hours=7))
    other_job = JobRun.objects.create(job="reprice", trigger="schedule", started_at=timezone.now())

    job_run(job="restock", body=lambda ctx: None, trigger="command")

    dead.refresh_from_db()
    other_job.refresh_from_db()
    assert dead.status == JobRun.Status.FAILED
    assert dead.message == "Abandoned: the process running it ended before it finished."
    assert other_job.status == JobRun.Status.RUNNING


def test_the_report_shows_outcome_steps_counts_and_message():
    started = timezone.now()
    run = JobRun(
        job="restock",
        trigger="command",
        status=JobRun.Status.SKIPPED,
        started_at=started,
        finished_at=started + timedelta(seconds=1.25),
        step_durations=[{"step": "check", "seconds": 1.25}],
        counts={"found": 0},
        reason=NOTHING_ARRIVED,
        reason_params={"day": "2026-12-01"},
    )

    assert job_run_report(run).splitlines() == [
        f"restock SKIPPED in 1.2 s (run {run.pk})",
        "  check                        1.250 s",
        "  found=0",
        "  Nothing arrived on 2026-12-01.",
    ]


def test_a_reason_nobody_registered_is_refused_where_it_is_raised():
    with pytest.raises(ValueError, match="'shelf_gone' is not a registered job reason"):
        JobSkipped("shelf_gone")


def test_the_reasons_are_stored_as_codes_and_read_in_the_readers_language():
    started = timezone.now()
    run = JobRun.objects.create(
        job="restock",
        trigger="schedule",
        status=JobRun.Status.SKIPPED,
        started_at=started,
        finished_at=started,
        reason=ALREADY_RUNNING,
        reason_params={"job": "restock"},
    )

    with translation.override("ko"):
        assert JobRun.objects.get(pk=run.pk).message == "restock 작업이 이미 실행 중이어서 이번 실행은 건너뛰었습니다."
    with translation.override("en"):
        assert JobRun.objects.get(pk=run.pk).message == "restock was already running: this run was skipped."


@pytest.mark.django_db(transaction=True)
def test_the_messages_of_earlier_runs_are_mapped_to_their_reasons_once(latest_schema_after):
    old = migrate([("c4ang", "0003_verbose_names")])
    OldRun = old.get_model("c4ang", "JobRun")
    messages = [
        "daily_recommendation_pipeline was already running: this run was skipped.",
        "weekly_sentiment_analysis could not take its lock (the cache is unreachable): this run was skipped.",
        "Abandoned: the process running it ended before it finished.",
        "No purchases on 2026-11-19: the recommendations in place are kept.",
        "No product has 5 or more approved reviews from the last 7 days and no analysis in that time.",
        "SentimentFunctionError: the function failed",
        "",
    ]
    started = timezone.now()
    for index, message in enumerate(messages):
        OldRun.objects.create(
            job=f"job{index}", trigger="schedule", status="SKIPPED", started_at=started, message=message
        )

    new = migrate([("c4ang", "0004_job_run_reason_codes")])

    mapped = [(run.reason, run.reason_params) for run in new.get_model("c4ang", "JobRun").objects.order_by("job")]
    expected = [
        ("already_running", {"job": "daily_recommendation_pipeline"}),
        ("lock_unreachable", {"job": "weekly_sentiment_analysis"}),
        ("abandoned", {}),
        ("no_purchases", {"day": "2026-11-19"}),
        ("nothing_to_analyse", {"min_reviews": 5, "window_days": 7}),
        ("error", {"error": "SentimentFunctionError: the function failed"}),
        ("", {}),
    ]
    assert mapped == expected
    # and each reads in English as it was written
    with translation.override("en"):
        assert [job_reason_text(reason, params) for reason, params in mapped] == messages


def test_staff_see_job_runs_in_the_admin_but_cannot_change_them(client, django_user_model):
    run = job_run(job="restock", body=lambda ctx: ctx.count(restocked=4), trigger="command")
    client.force_login(django_user_model.objects.create_superuser("admin@c4ang.com", "admin password 1234"))

    listing = client.get("/admin/c4ang/jobrun/")
    detail = client.get(f"/admin/c4ang/jobrun/{run.pk}/change/")

    assert listing.status_code == 200
    assert b"restock" in listing.content
    assert detail.status_code == 200
    assert b"restocked" in detail.content
    assert b'name="_save"' not in detail.content
    assert client.get("/admin/c4ang/jobrun/add/").status_code == 403
    assert client.post(f"/admin/c4ang/jobrun/{run.pk}/delete/", {"post": "yes"}).status_code == 403
    assert JobRun.objects.filter(pk=run.pk).exists()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_two_workers_starting_the_job_together_run_it_once():
    barrier, release = threading.Barrier(2), threading.Event()
    outcomes = []

    def worker():
        barrier.wait(timeout=30)
        run = job_run(job="restock", body=lambda ctx: release.wait(timeout=30), trigger="schedule")
        outcomes.append(run.status)
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while not outcomes and time.monotonic() < deadline:  # the loser returns at once; the winner waits
        time.sleep(0.01)
    release.set()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == [JobRun.Status.SKIPPED, JobRun.Status.SUCCEEDED]
    assert JobRun.objects.filter(job="restock").count() == 2
