"""Benchmark: the sentiment handler's throughput and peak memory for a BERT-base-size model on the
CPU, against the naive handler of the original design, in the same run.

    .venv/bin/python bench/sentiment_handler.py [--reviews 256]

The model is built from a config (12 layers, hidden 768, 12 heads, vocab 30,000: the size of
beomi/kcbert-base) with random weights, since nothing can be downloaded here; speed and memory
do not depend on what the weights learnt. Its tokenizer is trained on the demo reviews. The
reviews are demo phrases strung together with a long-tailed count, like real reviews: most are
short, a few are long. Each variant runs in a process of its own (peak RSS is per process), on
the same reviews, in events of 32 as the job sends them, after one warm-up event:

    naive       the original handler: each event padded to its longest review, torch.no_grad
    handler     the real handler: length-sorted micro-batches of 8, torch.inference_mode (fp32)
    handler     the same with SENTIMENT_PRECISION=bf16 (autocast; switchable, off by default)

Target: the handler at least 2x the naive one's reviews/s.
"""

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from c4ang import demo  # noqa: E402

BATCH = 32
# Best of a few passes: the machine is shared, and a busy neighbour says nothing about the handler.
PASSES = 2
VARIANTS = {
    "naive": {},
    "handler fp32": {"SENTIMENT_PRECISION": "fp32"},
    "handler bf16": {"SENTIMENT_PRECISION": "bf16"},
}


def reviews(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    phrases = demo.POSITIVE_PHRASES + demo.NEGATIVE_PHRASES + demo.NEUTRAL_PHRASES
    texts = []
    for _ in range(count):
        length = min(60, max(1, int(rng.lognormvariate(1.3, 0.9))))
        texts.append(rng.choice(demo.OPENERS) + " ".join(rng.choice(phrases) for _ in range(length)))
    return texts


def build_model(path: Path, texts: list[str]) -> None:
    from transformers import BertConfig, BertForSequenceClassification

    from sentiment.lambda_function.demo_model import LABELS, tokenizer_train

    tokenizer = tokenizer_train(texts, vocab_size=30_000)
    config = BertConfig(
        vocab_size=30_000,
        hidden_size=768,
        num_hidden_layers=12,
        num_attention_heads=12,
        intermediate_size=3072,
        max_position_embeddings=512,
        id2label=LABELS,
        label2id={label: index for index, label in LABELS.items()},
    )
    BertForSequenceClassification(config).save_pretrained(path)
    tokenizer.model_max_length = 512
    tokenizer.save_pretrained(path)


def naive_handler(path: str):
    """The original design's handler: each event padded to its longest review, under torch.no_grad."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path)

    def handler(event, context):
        inputs = tokenizer(event["reviews"], padding=True, truncation=True, return_tensors="pt")
        with torch.no_grad():
            outputs = model(**inputs)
            predictions = torch.nn.functional.softmax(outputs.logits, dim=-1)
        return {"sentiments": (predictions[:, 1] - predictions[:, 0]).tolist()}

    return handler


def run_variant(variant: str, model: str, texts: list[str]) -> dict:
    """In its own process: load, warm up on one event, then score every event and time it."""
    if variant == "naive":
        handler = naive_handler(model)
    else:
        from sentiment.lambda_function.handler import handle

        def handler(event, context):
            return handle(event, model_name=model)

    events = [{"reviews": texts[start : start + BATCH]} for start in range(0, len(texts), BATCH)]
    handler(events[0], None)
    timings = []
    for _ in range(PASSES):
        started = time.perf_counter()
        scores = [score for event in events for score in handler(event, None)["sentiments"]]
        timings.append(time.perf_counter() - started)
    elapsed = min(timings)
    return {
        "reviews_per_s": len(texts) / elapsed,
        "seconds": elapsed,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "scores": scores,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviews", type=int, default=256)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    options = parser.parse_args()
    texts = reviews(options.reviews, options.seed)
    if options.variant:
        print(json.dumps(run_variant(options.variant, options.model, texts)))
        return

    import torch

    with tempfile.TemporaryDirectory(prefix="bert-base-size-") as model:
        build_model(Path(model), reviews(2000, options.seed + 1))
        from transformers import AutoTokenizer

        lengths = [len(ids) for ids in AutoTokenizer.from_pretrained(model)(texts)["input_ids"]]
        print(f"BERT-base-size model from config (12 layers, hidden 768, vocab 30,000), torch {torch.__version__}")
        print(
            f"{len(texts)} reviews in events of {BATCH}; tokens per review: median {statistics.median(lengths):.0f}, "
            f"mean {statistics.mean(lengths):.0f}, max {max(lengths)}; {torch.get_num_threads()} threads"
        )
        results = {}
        sizes = ["--reviews", str(options.reviews), "--seed", str(options.seed)]
        for variant, env in VARIANTS.items():
            completed = subprocess.run(
                [sys.executable, __file__, "--variant", variant, "--model", model, *sizes],
                env={**os.environ, **env},
                capture_output=True,
                text=True,
                check=True,
            )
            results[variant] = json.loads(completed.stdout.strip().splitlines()[-1])

    naive = results["naive"]
    print(f"{'variant':<14} {'reviews/s':>10} {'seconds':>8} {'peak RSS':>10} {'speed-up':>9} {'max |Δ score|':>14}")
    for variant, result in results.items():
        difference = max(abs(a - b) for a, b in zip(result["scores"], naive["scores"], strict=True))
        speed_up = result["reviews_per_s"] / naive["reviews_per_s"]
        print(
            f"{variant:<14} {result['reviews_per_s']:>10.1f} {result['seconds']:>8.1f} "
            f"{result['peak_rss_mb']:>7.0f} MB {speed_up:>8.1f}x {difference:>14.5f}"
        )


if __name__ == "__main__":
    main()
