"""Stored review sentiment for tests, as the weekly pipeline writes it."""

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from products.tests.factories import ProductFactory
from sentiment.models import ProductSentiment


class ProductSentimentFactory(DjangoModelFactory):
    class Meta:
        model = ProductSentiment

    product = factory.SubFactory(ProductFactory)
    positive_ratio = 0.5
    negative_ratio = 0.3
    avg_sentiment = 0.2
    review_count = 100
    model_name = "demo"
    analyzed_at = factory.LazyFunction(timezone.now)
