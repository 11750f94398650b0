"""A job run's message becomes a reason code and its parameters, shown in the reader's language.

Earlier rows kept English text: a lock's `daily_recommendation_pipeline was already running: this run
was skipped.`, `Abandoned: …`, the jobs' own `No purchases on 2026-11-19: …` and `No product has 5 or
more approved reviews from the last 7 days …`, and a failure's `Type: error`. Each is mapped once,
here; a text none of these patterns knows is kept as the error it was.
"""

import re

from django.db import migrations, models

BATCH = 2000
PATTERNS = [
    (re.compile(r"(?P<job>\S+) was already running: this run was skipped\."), "already_running"),
    (
        re.compile(r"(?P<job>\S+) could not take its lock \(the cache is unreachable\): this run was skipped\."),
        "lock_unreachable",
    ),
    (re.compile(r"Abandoned: the process running it ended before it finished\."), "abandoned"),
    (
        re.compile(r"No purchases on (?P<day>\d{4}-\d{2}-\d{2}): the recommendations in place are kept\."),
        "no_purchases",
    ),
    (
        re.compile(
            r"No product has (?P<min_reviews>\d+) or more approved reviews from the last (?P<window_days>\d+) days "
            r"and no analysis in that time\."
        ),
        "nothing_to_analyse",
    ),
]
NUMBERS = {"min_reviews", "window_days"}


def reason_of(message: str) -> tuple[str, dict]:
    for pattern, reason in PATTERNS:
        if matched := pattern.fullmatch(message):
            return reason, {
                name: int(value) if name in NUMBERS else value for name, value in matched.groupdict().items()
            }
    return "error", {"error": message}


def forwards(apps, schema_editor):
    JobRun = apps.get_model("c4ang", "JobRun")
    runs = []
    for run in JobRun.objects.exclude(message="").only("id", "message").iterator(chunk_size=BATCH):
        run.reason, run.reason_params = reason_of(run.message)
        runs.append(run)
    JobRun.objects.bulk_update(runs, ["reason", "reason_params"], batch_size=BATCH)


def backwards(apps, schema_editor):
    # The code and its parameters: the English text is the catalogue's, not the database's.
    JobRun = apps.get_model("c4ang", "JobRun")
    runs = []
    for run in JobRun.objects.exclude(reason="").only("id", "reason", "reason_params").iterator(chunk_size=BATCH):
        run.message = run.reason_params["error"] if run.reason == "error" else f"{run.reason} {run.reason_params}"
        runs.append(run)
    JobRun.objects.bulk_update(runs, ["message"], batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [
        ("c4ang", "0003_verbose_names"),
    ]

    operations = [
        migrations.AddField(
            model_name="jobrun",
            name="reason",
            field=models.CharField(
                blank=True,
                help_text="Why the run was skipped or failed: a code (c4ang.jobs).",
                max_length=50,
                verbose_name="reason",
            ),
        ),
        migrations.AddField(
            model_name="jobrun",
            name="reason_params",
            field=models.JSONField(blank=True, default=dict, verbose_name="reason parameters"),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.RemoveField(
            model_name="jobrun",
            name="message",
        ),
    ]
