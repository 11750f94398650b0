"""Benchmark: the grouped ranking against the pairwise definition at 5,000 products.

    .venv/bin/python bench/recommendations_speedup.py [--products 5000]

Both compute the top 10 of every product from the same catalog (categories and brands of the
demo shop's proportions, long-tail popularity with many ties); the outputs must be identical.
Target: at least 100x faster. No database: the ranking is pure Python.
"""

import argparse
import random
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from recommendations.ranking import RankedProduct, SimilarityTiers, popularity, top_grouped, top_pairwise

CATEGORIES = 20
BRANDS = 300
GROUPED_RUNS = 7
PAIRWISE_RUNS = 3


def catalog(size: int, rng: random.Random) -> list[RankedProduct]:
    purchases = [int(rng.paretovariate(1.2)) - 1 for _ in range(size)]
    total = sum(purchases)
    return [
        RankedProduct(
            id=str(uuid.UUID(int=rng.getrandbits(128))),
            category=f"category{rng.randrange(CATEGORIES)}",
            brand=f"brand{rng.randrange(BRANDS)}",
            popularity=popularity(count, total),
        )
        for count in purchases
    ]


def best_of(runs: int, compute):
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        result = compute()
        timings.append(time.perf_counter() - started)
    return min(timings), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=2026)
    options = parser.parse_args()
    products = catalog(options.products, random.Random(options.seed))

    # Best of several runs: the machine is shared, and a stray pause says nothing about the algorithm.
    grouped_s, grouped = best_of(GROUPED_RUNS, lambda: top_grouped(SimilarityTiers(products)))
    pairwise_s, pairwise = best_of(PAIRWISE_RUNS, lambda: top_pairwise(products))

    print(f"{options.products:,} products, {CATEGORIES} categories, {BRANDS} brands")
    print(f"pairwise definition: {pairwise_s:8.2f} s (best of {PAIRWISE_RUNS})")
    print(f"grouped:             {grouped_s:8.3f} s (best of {GROUPED_RUNS})")
    print(f"speed-up:            {pairwise_s / grouped_s:8.0f}x (target >= 100x)")
    print(f"identical output:    {grouped.as_dict() == pairwise}")
    if grouped.as_dict() != pairwise:
        sys.exit(1)


if __name__ == "__main__":
    main()
