from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext

from c4ang.errors import DomainError
from c4ang.jobs import job_run_report
from c4ang.models import JobRun
from sentiment import services


class Command(BaseCommand):
    help = "Run the weekly review sentiment analysis now (under its lock, recorded as a job run), with progress bars."

    def add_arguments(self, parser):
        parser.add_argument("--min-reviews", type=int, help="approved reviews a product needs (default 100)")
        parser.add_argument("--window-days", type=int, help="days of reviews, and since the last analysis (30)")
        parser.add_argument("--max-products", type=int, help="most products analysed in this run (default 10)")

    def handle(self, *args, **options):
        for name in ("min_reviews", "window_days", "max_products"):
            if options[name] is not None and options[name] < 1:
                raise CommandError(
                    gettext("--%(option)s must be 1 or more, got %(value)d")
                    % {"option": name.replace("_", "-"), "value": options[name]}
                )
        try:
            run = services.sentiment_analyze(
                trigger="command",
                progress=options["verbosity"] > 0,
                min_reviews=options["min_reviews"],
                window_days=options["window_days"],
                max_products=options["max_products"],
            )
        except DomainError as error:
            # The run is recorded as failed; the operator gets the reason without a traceback.
            raise CommandError(
                gettext("%(job)s failed: %(message)s") % {"job": services.JOB, "message": error.message}
            ) from None
        style = self.style.SUCCESS if run.status == JobRun.Status.SUCCEEDED else self.style.WARNING
        self.stdout.write(style(job_run_report(run)))
