"""Benchmark: the weekly sentiment job with 8 Lambda invocations in flight against one at a time, same run.

    .venv/bin/python bench/sentiment_fanout.py [--delay-ms 300] [--concurrency 8]

Self-contained: a scratch SQLite database in a temporary directory (the embedded cache beside it)
holding the demo shop (`seed_demo_data`: a dozen products with 100-140 recent reviews, of which
the job takes its 10), and the local Lambda Invoke API in a process of its own, as the function
runs apart from the job, with the real handler and a tiny model built here, `--delay-ms` added to
every invocation as the deployed function's latency. The job runs as it runs on Sundays (lock,
run record, its three steps, boto3 invokes with the settings' client), first `--concurrency`
batches at a time, then one at a time, each against a fresh function process that counts the
invocations in flight. Both runs must store the same results. Target: at least 5x sooner.
"""

import argparse
import multiprocessing
import os
import random
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STORED = ("positive_ratio", "negative_ratio", "avg_sentiment", "review_count", "model_name")


def build_tiny_model(path: Path) -> None:
    """The tests' tiny BERT (2 layers of 32): its own scoring takes milliseconds, so the delay is the latency."""
    from c4ang.demo import labelled_reviews
    from sentiment.lambda_function import demo_model

    texts = [review.content for review in labelled_reviews(random.Random(7), 200)]
    tokenizer = demo_model.tokenizer_train(texts, vocab_size=300)
    demo_model.model_new(vocab_size=len(tokenizer), hidden_size=32, layers=2, heads=2).save_pretrained(path)
    tokenizer.save_pretrained(path)


def serve(delay_s: float, control: Connection) -> None:
    """The function's process: serves until told to stop, then sends back its counts."""
    from sentiment.lambda_function.handler import lambda_handler
    from sentiment.lambda_function.local_server import LambdaApiServer

    server = LambdaApiServer(("127.0.0.1", 0), function_name="c4ang-sentiment", handler=lambda_handler, delay_s=delay_s)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    control.send(server.url)
    control.recv()
    server.shutdown()
    control.send({"max_in_flight": server.max_in_flight, "invocations": server.invocations})


@contextmanager
def function_serving(delay_s: float) -> Iterator[dict]:
    """The local Lambda endpoint in a process of its own (the job's threads and the handler share no
    GIL, as on AWS), warmed up; yields its counts, filled in when it stops, the warm-up left out."""
    from django.test import override_settings

    from sentiment import backends

    # Spawned: forking a process whose torch has started its threads (the model was built here) can hang.
    spawn = multiprocessing.get_context("spawn")
    ours, theirs = spawn.Pipe()
    process = spawn.Process(target=serve, args=(delay_s, theirs), daemon=True)
    process.start()
    counts: dict[str, int] = {}
    try:
        with override_settings(SENTIMENT_BACKEND="lambda", SENTIMENT_LAMBDA_ENDPOINT_URL=ours.recv()):
            # Not timed: the model's first load in that process.
            backends.scorer_from_settings().score(reviews=["배송이 빨라요"], batch_id="warm-up")
            yield counts
        ours.send("stop")
        counts.update(ours.recv())
        counts["invocations"] -= 1
    finally:
        process.join(timeout=30)
        if process.is_alive():
            process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay-ms", type=int, default=300, help="added to each invocation (default 300)")
    parser.add_argument("--concurrency", type=int, default=8, help="invocations in flight in the fanned run")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sentiment-fanout-", ignore_cleanup_errors=True) as scratch:
        compare(Path(scratch), delay_s=options.delay_ms / 1000, concurrency=options.concurrency)


def compare(scratch: Path, *, delay_s: float, concurrency: int) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="c4ang.settings",
        DATABASE_URL=f"sqlite:///{scratch / 'bench.sqlite3'}",
        SENTIMENT_MODEL=str(scratch / "model"),  # read by the handler in the function's process
        # One intra-op thread per invocation: on a shared 2-core machine torch's two threads wait on each
        # other whenever a neighbour holds a core, and the tiny model's milliseconds swing up to seconds.
        SENTIMENT_TORCH_THREADS="1",
        AWS_ACCESS_KEY_ID="local",
        AWS_SECRET_ACCESS_KEY="local",  # noqa: S106 - the local endpoint checks no signature
        LOG_LEVEL="WARNING",
    )
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.core.management import call_command
    from django.test import override_settings

    from c4ang.jobs import job_run_report
    from c4ang.models import JobRun
    from sentiment import services
    from sentiment.models import ProductSentiment

    started = time.perf_counter()
    build_tiny_model(scratch / "model")
    call_command("migrate", verbosity=0)
    call_command("seed_demo_data", "--products", "40", "--orders", "0", "--images", "0", verbosity=0)
    print(f"fixture (tiny model, migrate, demo shop) in {time.perf_counter() - started:.1f} s, not timed")

    def job_with(in_flight: int) -> tuple[JobRun, dict, float, dict]:
        ProductSentiment.objects.all().delete()  # or the run would skip every product as analysed
        with function_serving(delay_s) as counts, override_settings(SENTIMENT_LAMBDA_CONCURRENCY=in_flight):
            began = time.perf_counter()
            run = services.sentiment_analyze(trigger="command")
            seconds = time.perf_counter() - began
        rows = {
            row.product_id: tuple(getattr(row, field) for field in STORED) for row in ProductSentiment.objects.all()
        }
        return run, counts, seconds, rows

    load_before = os.getloadavg()[0]
    fanned, fanned_counts, fanned_s, fanned_rows = job_with(concurrency)
    sequential, sequential_counts, sequential_s, sequential_rows = job_with(1)
    load_after = os.getloadavg()[0]

    for name, run in ((f"{concurrency} at a time", fanned), ("1 at a time", sequential)):
        print(f"--- {name}: {job_run_report(run)}")
    print(
        f"delay {delay_s * 1000:.0f} ms per invocation; {os.cpu_count()} CPUs, load average {load_before:.2f} "
        f"before, {load_after:.2f} after"
    )
    print(f"{'run':<14} {'max in flight':>13} {'invocations':>11} {'seconds':>8} {'ms per invocation':>18}")
    for name, counts, seconds in (
        (f"{concurrency} at a time", fanned_counts, fanned_s),
        ("1 at a time", sequential_counts, sequential_s),
    ):
        print(
            f"{name:<14} {counts['max_in_flight']:>13} {counts['invocations']:>11} {seconds:>8.2f} "
            f"{seconds / counts['invocations'] * 1000:>18.0f}"
        )
    same = fanned_rows == sequential_rows and len(fanned_rows) == fanned.counts["stored"]
    print(f"sooner: {sequential_s / fanned_s:.1f}x (target >= 5x; at most {concurrency}x with a constant latency)")
    print(f"stored results identical for {len(fanned_rows)} products: {same}")
    if not same or fanned_counts["max_in_flight"] > concurrency or sequential_counts["max_in_flight"] != 1:
        sys.exit("the runs disagree, or more invocations were in flight than allowed")


if __name__ == "__main__":
    main()
