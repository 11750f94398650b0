from datetime import date

from django.core.management.base import BaseCommand

from c4ang.jobs import job_run_report
from c4ang.models import JobRun
from recommendations import services


class Command(BaseCommand):
    help = "Run the daily recommendation pipeline now (under its lock, recorded as a job run), with progress bars."

    def add_arguments(self, parser):
        parser.add_argument(
            "--date",
            type=date.fromisoformat,
            help="run as of this day, YYYY-MM-DD (default: today in Asia/Seoul); the day before must have purchases",
        )

    def handle(self, *args, **options):
        run = services.recommendations_generate(
            trigger="command", progress=options["verbosity"] > 0, today=options["date"]
        )
        style = self.style.SUCCESS if run.status == JobRun.Status.SUCCEEDED else self.style.WARNING
        self.stdout.write(style(job_run_report(run)))
