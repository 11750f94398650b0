"""Categories, products and reviews for tests; prices in whole won."""

from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from customers.tests.factories import CustomerFactory
from products.models import Category, Product, Review


class CategoryFactory(DjangoModelFactory):
    """One row per name: CategoryFactory(name="패션") twice is the same category."""

    class Meta:
        model = Category
        django_get_or_create = ("name",)
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"카테고리{n}")

    @factory.post_generation
    def tree_path(category, create, extracted, **kwargs):
        # Rows made here skip the services, which keep the tree's path and depth: set them as those would.
        if create and not category.path:
            from products import services

            services.category_paths_rebuild()
            category.refresh_from_db(fields=["path", "depth"])


class ProductFactory(DjangoModelFactory):
    """For sale in 전자제품 unless told otherwise: ProductFactory(category__name="패션", brand="나이키")."""

    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"상품{n}")
    category = factory.SubFactory(CategoryFactory, name="전자제품")
    brand = "삼성"
    price = Decimal("10000")
    stock = 10


class ReviewFactory(DjangoModelFactory):
    """An approved review by a new customer."""

    class Meta:
        model = Review

    product = factory.SubFactory(ProductFactory)
    customer = factory.SubFactory(CustomerFactory)
    rating = 3
    content = "좋아요"
