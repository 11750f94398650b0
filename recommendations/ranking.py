"""The hybrid ranking of the daily recommendations, free of Django.

For products a and b:
    similarity(a, b) = ((same category) + (same brand)) / 2          -> 0, 0.5 or 1
    score(a, b)      = 0.7 * similarity(a, b) + 0.3 * popularity(b)
and a product's recommendations are the 10 other products with the highest score (ties by id).

`top_pairwise` computes that definition literally, over all pairs (O(n²)): it is the reference
the tests and the benchmark compare against. `top_grouped` gives the identical result from the
products grouped by similarity tier and sorted once (O(n log n), then O(k) per product): what
the job runs, into a CompactRanking (flat arrays: a million products' lists fit in about 120 MB).
"""

import heapq
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache

ALPHA = 5
BETA = 45
CONTENT_WEIGHT = 0.7
POPULARITY_WEIGHT = 0.3
TOP_N = 10
ALGORITHM = "hybrid-content70-popularity30"

# The three values similarity takes: same category and brand, one of the two, neither.
SAME_BOTH, SAME_ONE, SAME_NONE = 1.0, 0.5, 0.0

Ranking = dict[str, list[tuple[str, float]]]


@dataclass(frozen=True, slots=True)
class RankedProduct:
    id: str
    category: str
    brand: str
    popularity: float


def popularity(purchases: int, total_purchases: int) -> float:
    """Bayesian-smoothed popularity: (purchases + ALPHA) / (total + ALPHA + BETA), always within (0, 1)."""
    return (purchases + ALPHA) / (total_purchases + ALPHA + BETA)


def similarity(a: RankedProduct, b: RankedProduct) -> float:
    return ((a.category == b.category) + (a.brand == b.brand)) / 2


def score(sim: float, candidate_popularity: float) -> float:
    return CONTENT_WEIGHT * sim + POPULARITY_WEIGHT * candidate_popularity


def top_pairwise(products: list[RankedProduct], n: int = TOP_N) -> Ranking:
    """The definition, literally: every ordered pair scored. O(n²); for reference only."""
    ranking: Ranking = {}
    for a in products:
        best = heapq.nsmallest(n, ((-score(similarity(a, b), b.popularity), b.id) for b in products if b.id != a.id))
        ranking[a.id] = [(product_id, -negative) for negative, product_id in best]
    return ranking


class SimilarityTiers:
    """Products grouped by what their similarity depends on: (category, brand), category, brand.

    Two products of one (category, brand) group have similarity 1; of one category or one brand
    only, 0.5; otherwise 0.
    """

    def __init__(self, products: list[RankedProduct]):
        if any(not 0.0 <= product.popularity <= 1.0 for product in products):
            raise ValueError("popularity must lie within [0, 1], or the similarity tiers would interleave")
        self.products = products
        self.groups: dict[tuple[str, str], list[RankedProduct]] = defaultdict(list)
        self.categories: dict[str, list[RankedProduct]] = defaultdict(list)
        self.brands: dict[str, list[RankedProduct]] = defaultdict(list)
        for product in products:
            self.groups[product.category, product.brand].append(product)
            self.categories[product.category].append(product)
            self.brands[product.brand].append(product)


class CompactRanking:
    """Every product's top n (ids and scores) in two flat arrays, by the products' order: a dict of
    lists of tuples takes about 1 KB a product (1.5 GB at a million), these 12 bytes a candidate."""

    def __init__(self, products: list[RankedProduct], n: int):
        self.products = products
        self.n = n
        self.position = {product.id: index for index, product in enumerate(products)}
        self.candidates = array("i", [-1]) * (len(products) * n)  # -1: no candidate in that place
        self.scores = array("d", [0.0]) * (len(products) * n)
        self.ranked = 0

    def put(self, product_id: str, best: list[tuple[str, float]]) -> None:
        start = self.position[product_id] * self.n
        for offset, (candidate, candidate_score) in enumerate(best):
            self.candidates[start + offset] = self.position[candidate]
            self.scores[start + offset] = candidate_score
        self.ranked += 1

    def __len__(self) -> int:
        return self.ranked

    def items(self) -> Iterator[tuple[str, list[tuple[str, float]]]]:
        """(product id, its top n as (candidate id, score)), in the products' order."""
        products, candidates, scores = self.products, self.candidates, self.scores
        for index, product in enumerate(products):
            start = index * self.n
            best = []
            for place in range(start, start + self.n):
                if candidates[place] < 0:
                    break
                best.append((products[candidates[place]].id, scores[place]))
            yield product.id, best

    def as_dict(self) -> Ranking:
        return dict(self.items())


def top_grouped(
    tiers: SimilarityTiers, n: int = TOP_N, on_progress: Callable[[int], object] = lambda done: None
) -> CompactRanking:
    """The same ranking as `top_pairwise`, without comparing every pair.

    Scores of different similarity tiers never interleave: popularity lies in [0, 1], so tier 1
    scores are >= 0.7, tier 0.5 scores within [0.35, 0.65] and tier 0 scores <= 0.3. A product's
    top n are therefore the best of its (category, brand) group, then, only if the group is too
    small, the best of its category or brand, then the best of the rest. Within a tier the order
    is (-score, id), so every list is sorted by exactly that key; the lower tiers are only needed
    by groups of at most n products, which keeps every scan short.
    """

    def ordered(items: Iterable[RankedProduct], sim: float) -> list[tuple[float, str, RankedProduct]]:
        return sorted((-score(sim, item.popularity), item.id, item) for item in items)

    def first(candidates: Iterable[tuple[float, str, RankedProduct]], category: str, brand: str, shared: int):
        """The first n candidates that share `shared` of (category, brand) with the group: 1 for the
        0.5 tier, 0 for the 0 tier."""
        taken = []
        for negative, product_id, product in candidates:
            if len(taken) == n:
                break
            if (product.category == category) + (product.brand == brand) == shared:
                taken.append((negative, product_id))
        return taken

    # Each sorted once, and only when a small group needs it.
    @cache
    def sorted_category(category: str):
        return ordered(tiers.categories[category], SAME_ONE)

    @cache
    def sorted_brand(brand: str):
        return ordered(tiers.brands[brand], SAME_ONE)

    @cache
    def sorted_all():
        return ordered(tiers.products, SAME_NONE)

    ranking = CompactRanking(tiers.products, n)
    for (category, brand), members in tiers.groups.items():
        group = ordered(members, SAME_BOTH)
        # What the group itself cannot fill comes from the lower tiers, the same for all its members.
        lower: list[tuple[float, str]] = []
        if len(group) - 1 < n:
            # Both lists hold the group's members (at most n), which are skipped: the scans stay short.
            same_category = first(sorted_category(category), category, brand, 1)
            same_brand = first(sorted_brand(brand), category, brand, 1)
            lower = sorted(same_category + same_brand)[:n]
            if len(group) - 1 + len(lower) < n:
                # Then fewer than 2n products share the category or the brand: a short scan again.
                lower += first(sorted_all(), category, brand, 0)
        for _, member_id, _member in group:
            best = [(negative, product_id) for negative, product_id, _ in group[: n + 1] if product_id != member_id]
            ranking.put(member_id, [(product_id, -negative) for negative, product_id in (best + lower)[:n]])
        on_progress(len(group))
    return ranking
