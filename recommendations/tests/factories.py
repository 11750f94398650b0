"""Stored recommendations for tests, as the daily pipeline writes them."""

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from products.tests.factories import ProductFactory
from recommendations.models import Recommendation
from recommendations.ranking import ALGORITHM


class RecommendationFactory(DjangoModelFactory):
    """RecommendationFactory(product=phone, recommended=[tablet, tv]): each recommended product scored 0.5."""

    class Meta:
        model = Recommendation

    class Params:
        recommended = ()

    product = factory.SubFactory(ProductFactory)
    recommended_product_ids = factory.LazyAttribute(lambda o: [str(product.pk) for product in o.recommended])
    scores = factory.LazyAttribute(lambda o: [0.5] * len(o.recommended_product_ids))
    algorithm = ALGORITHM
    created_at = factory.LazyFunction(timezone.now)
