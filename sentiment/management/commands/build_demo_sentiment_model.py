import importlib
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext

# Loaded by name: torch and transformers stay out of every module the web processes import.
DEMO_MODEL_MODULE = "sentiment.lambda_function.demo_model"


class Command(BaseCommand):
    help = (
        "Train the DEMO sentiment model (a 2-layer BERT, seconds on a CPU) on synthetic labelled Korean "
        "reviews and save it with save_pretrained; point SENTIMENT_MODEL at the directory. Demo only."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            type=Path,
            default=settings.VAR_DIR / "sentiment-demo-model",
            help="directory to write (default var/sentiment-demo-model)",
        )
        parser.add_argument("--reviews", type=int, default=2000, help="training reviews (default 2000)")
        parser.add_argument("--epochs", type=int, default=2, help="passes over them (default 2)")
        parser.add_argument("--seed", type=int, default=2026, help="random seed: the same seed, the same model")

    def handle(self, *args, **options):
        for name in ("reviews", "epochs"):
            if options[name] < 1:
                raise CommandError(
                    gettext("--%(option)s must be 1 or more, got %(value)d") % {"option": name, "value": options[name]}
                )
        demo_model = importlib.import_module(DEMO_MODEL_MODULE)
        report = demo_model.demo_model_build(
            output=options["output"], reviews=options["reviews"], epochs=options["epochs"], seed=options["seed"]
        )
        self.stdout.write(
            self.style.SUCCESS(
                gettext(
                    "Demo sentiment model saved to %(output)s in %(seconds)s s (%(reviews)d reviews, held-out "
                    "accuracy %(accuracy)s). Use it with SENTIMENT_MODEL=%(path)s - a demo model, never for production."
                )
                % {
                    "output": report.output,
                    "seconds": f"{report.seconds:.1f}",
                    "reviews": report.reviews,
                    "accuracy": f"{report.held_out_accuracy:.1%}",
                    "path": report.output.resolve(),
                }
            )
        )
