"""The hybrid ranking: popularity, similarity tiers, top-10 order, and the grouped algorithm giving
exactly the pairwise definition's result."""

import random
import uuid

import pytest

from recommendations.ranking import (
    RankedProduct,
    SimilarityTiers,
    popularity,
    score,
    similarity,
    top_grouped,
    top_pairwise,
)


def product(id_: str, category: str, brand: str, pop: float) -> RankedProduct:
    return RankedProduct(id=id_, category=category, brand=brand, popularity=pop)


def test_popularity_is_smoothed_with_alpha_5_and_beta_45():
    assert popularity(0, 0) == 5 / 50
    assert popularity(10, 100) == 15 / 150
    assert popularity(45, 100) == 50 / 150
    assert popularity(1000, 1000) == 1005 / 1050


def test_similarity_counts_same_category_and_same_brand_by_halves():
    phone = product("a", "전자제품", "삼성", 0.1)

    assert similarity(phone, product("b", "전자제품", "삼성", 0.1)) == 1.0
    assert similarity(phone, product("c", "전자제품", "LG", 0.1)) == 0.5
    assert similarity(phone, product("d", "패션", "삼성", 0.1)) == 0.5
    assert similarity(phone, product("e", "패션", "나이키", 0.1)) == 0.0


def test_score_is_70_percent_content_and_30_percent_popularity():
    assert score(1.0, 0.5) == pytest.approx(0.85)
    assert score(0.5, 0.1) == pytest.approx(0.38)
    assert score(0.0, 0.9) == pytest.approx(0.27)


def test_top_order_by_tier_then_popularity_then_id():
    catalog = [
        product("a", "전자제품", "삼성", 0.10),
        product("b", "전자제품", "삼성", 0.20),
        product("c", "전자제품", "LG", 0.50),
        product("d", "패션", "삼성", 0.30),
        product("e", "패션", "나이키", 0.90),
        product("f", "전자제품", "LG", 0.50),  # ties with c: the smaller id first
    ]

    ranking = top_grouped(SimilarityTiers(catalog)).as_dict()

    assert [candidate for candidate, _ in ranking["a"]] == ["b", "c", "f", "d", "e"]
    assert [round(s, 6) for _, s in ranking["a"]] == [0.76, 0.5, 0.5, 0.44, 0.27]
    assert [candidate for candidate, _ in ranking["e"]] == ["d", "c", "f", "b", "a"]
    assert ranking == top_pairwise(catalog)


def test_keeps_the_top_10_only():
    catalog = [product(f"p{index:02d}", "도서", "민음사", index / 100) for index in range(15)]

    ranking = top_grouped(SimilarityTiers(catalog)).as_dict()

    assert [candidate for candidate, _ in ranking["p00"]] == [f"p{index:02d}" for index in range(14, 4, -1)]
    assert [candidate for candidate, _ in ranking["p14"]] == [f"p{index:02d}" for index in range(13, 3, -1)]


@pytest.mark.parametrize("seed", range(200))
def test_grouped_equals_the_pairwise_definition_on_random_catalogs(seed):
    rng = random.Random(seed)
    total = rng.randint(0, 40)
    categories = [f"category{index}" for index in range(rng.randint(1, 5))]
    brands = [f"brand{index}" for index in range(rng.randint(1, 7))]
    # Few popularity values and small groups and large ones: ties everywhere, every tier used.
    catalog = [
        product(
            str(uuid.UUID(int=rng.getrandbits(128))),
            rng.choice(categories),
            rng.choice(brands),
            popularity(rng.randint(0, 3), total),
        )
        for _ in range(rng.randint(1, 45))
    ]

    assert top_grouped(SimilarityTiers(catalog)).as_dict() == top_pairwise(catalog)


def test_a_catalog_of_one_product_recommends_nothing():
    assert top_grouped(SimilarityTiers([product("a", "도서", "창비", 0.1)])).as_dict() == {"a": []}


def test_popularity_outside_0_to_1_is_refused():
    with pytest.raises(ValueError, match="popularity must lie within"):
        SimilarityTiers([product("a", "도서", "창비", 1.5)])


def test_progress_is_reported_per_product():
    done = []

    top_grouped(SimilarityTiers([product(str(i), "도서", str(i % 3), 0.1) for i in range(7)]), on_progress=done.append)

    assert sum(done) == 7
