"""The demo catalog comes with pictures: the first products get one drawn with Pillow, uploaded
through the same service as staff uploads (checked, with its sizes), so that a fresh `make run`
shows images in the admin and the API."""

import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from products.models import Product, ProductImage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def seed(*args: str) -> None:
    call_command("seed_demo_data", "--customers", "2", "--reviews", "0", "--orders", "0", *args, verbosity=0)


def test_the_first_products_get_a_drawn_primary_picture_with_its_sizes(media_root, api_client):
    seed("--products", "12", "--images", "10")

    assert ProductImage.objects.count() == ProductImage.objects.filter(is_primary=True).count() == 10
    assert Product.objects.filter(images__isnull=True).count() == 2
    for image in ProductImage.objects.all():
        assert (image.width, image.height, image.position) == (480, 480, 0)
        assert image.alt_text == Product.objects.get(pk=image.product_id).name
        assert Image.open(media_root / image.variants["thumbnail"]).size == (200, 200)
    assert sum(1 for path in media_root.rglob("*") if path.is_file()) == 40
    shown = [product["primary_image"] for product in api_client.get("/api/v1/products/?page_size=20").json()["results"]]
    assert sum(image is not None for image in shown) == 10


def test_pictures_are_optional_and_never_negative(media_root):
    seed("--products", "3", "--images", "0")
    assert ProductImage.objects.count() == 0

    with pytest.raises(CommandError, match="--images must be zero or more"):
        seed("--products", "3", "--images", "-1")
