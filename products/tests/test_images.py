"""Product images on the file system (the embedded default): staff upload through the API and the
admin, the checks by decoding, the sizes made at upload, primary and order, deletion with the
files, the public catalog's image URLs and their cache, and the files served at MEDIA_URL."""

import io
import uuid
from pathlib import Path

import pytest
from django.test import Client
from PIL import Image

from conftest import in_threads
from products import services
from products.models import ProductImage
from products.tests import image_files
from products.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"
SIZES = {"detail": 1000, "list": 400, "thumbnail": 200}


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    """Every test keeps its files in a folder of its own, never in var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def product():
    return ProductFactory(name="소니 무선 이어폰", brand="소니")


def images_url(product) -> str:
    return f"{PRODUCTS}staff/{product.pk}/images/"


def post_image(client, product, content: bytes, name: str = "photo.jpg", alt_text: str = "정면"):
    return client.post(
        images_url(product), {"image": image_files.upload(content, name), "alt_text": alt_text}, format="multipart"
    )


def stored_files(media_root: Path) -> list[str]:
    return sorted(str(path.relative_to(media_root)) for path in media_root.rglob("*") if path.is_file())


def opened(media_root: Path, url: str) -> Image.Image:
    assert url.startswith("/media/")
    return Image.open(media_root / url.removeprefix("/media/"))


def test_an_upload_stores_the_original_and_three_webp_sizes(staff_client, product, media_root):
    response = post_image(staff_client, product, image_files.jpeg_bytes(1600, 1200))

    assert response.status_code == 201
    body = response.json()
    image = ProductImage.objects.get()
    assert body == {
        "id": str(image.pk),
        "url": f"/media/products/originals/{image.pk}.jpg",
        "width": 1600,
        "height": 1200,
        "alt_text": "정면",
        "position": 0,
        "is_primary": True,
        "variants": {size: f"/media/products/variants/{image.pk}/{size}.webp" for size in SIZES},
    }
    for size, width in SIZES.items():
        variant = opened(media_root, body["variants"][size])
        assert (variant.format, variant.size) == ("WEBP", (width, width * 3 // 4))
    original = opened(media_root, body["url"])
    assert (original.format, original.size) == ("JPEG", (1600, 1200))
    assert len(stored_files(media_root)) == 4


def test_the_files_are_served_at_media_url_and_cached_for_good(staff_client, api_client, product):
    body = post_image(staff_client, product, image_files.jpeg_bytes(800, 600)).json()

    served = api_client.get(body["variants"]["thumbnail"])
    missing = api_client.get("/media/products/variants/nothing.webp")
    outside = api_client.get("/media/../c4ang.sqlite3")

    assert served.status_code == 200
    assert served["Content-Type"] == "image/webp"
    assert served["Cache-Control"] == "public, max-age=31536000, immutable"
    assert Image.open(io.BytesIO(b"".join(served.streaming_content))).size == (200, 150)
    assert (missing.status_code, outside.status_code) == (404, 400)  # a path out of MEDIA_ROOT is refused


def test_exif_is_stripped_after_the_orientation_is_applied(staff_client, product, media_root):
    # A phone photo stored sideways (landscape pixels) with "rotate 90° clockwise" in its EXIF.
    content = image_files.jpeg_bytes(600, 300, exif={image_files.ORIENTATION: 6, image_files.MAKE: "Canon"})

    body = post_image(staff_client, product, content).json()

    original = opened(media_root, body["url"])
    assert (body["width"], body["height"]) == (300, 600)
    assert original.size == (300, 600)
    assert dict(original.getexif()) == {}
    assert opened(media_root, body["variants"]["thumbnail"]).size == (200, 400)
    # Turned clockwise: the left half (red) is now on top.
    assert original.convert("RGB").getpixel((150, 10))[0] > 150
    assert original.convert("RGB").getpixel((150, 590))[2] > 150


def test_cmyk_becomes_rgb_and_transparency_is_kept(staff_client, product, media_root):
    cmyk = image_files.encoded(Image.new("CMYK", (500, 400), (0, 255, 255, 0)), "JPEG")
    transparent = image_files.encoded(image_files.photo(300, 200, mode="RGBA", color=(0, 128, 0, 255)), "PNG")

    from_cmyk = post_image(staff_client, product, cmyk).json()
    from_png = post_image(staff_client, product, transparent, name="cutout.png").json()

    original = opened(media_root, from_cmyk["url"])
    assert original.mode == "RGB"
    assert original.getpixel((10, 10))[0] > 240
    variant = opened(media_root, from_png["variants"]["list"])
    assert from_png["url"].endswith(".png")
    assert (variant.mode, variant.size) == ("RGBA", (300, 200))  # never enlarged
    assert variant.getpixel((299, 0))[3] == 0  # the transparent half stays transparent


def oversize_upload(settings) -> bytes:
    settings.PRODUCT_IMAGE_MAX_BYTES = 500
    return image_files.jpeg_bytes(200, 100)  # about 1 kB: checked once the body is read


def huge_body(settings) -> bytes:
    settings.PRODUCT_IMAGE_MAX_BYTES = 500
    return bytes(100_000)  # over the limit and the multipart overhead: refused before it is read


@pytest.mark.parametrize(
    ("make", "name", "code"),
    [
        (
            lambda settings: b"name,price\n\xec\x9d\xb4\xec\x96\xb4\xed\x8f\xb0,129000\n",
            "photo.jpg",
            "image_unsupported_format",
        ),
        (lambda settings: b"", "photo.jpg", "image_empty"),
        (oversize_upload, "photo.jpg", "image_too_big"),
        (huge_body, "photo.jpg", "image_too_big"),
        (lambda settings: image_files.bomb_png(), "bomb.png", "image_too_many_pixels"),
        (lambda settings: image_files.animated("WEBP"), "moving.webp", "image_animated"),
        (lambda settings: image_files.animated("PNG"), "moving.png", "image_animated"),
        (lambda settings: image_files.animated("GIF"), "moving.gif", "image_unsupported_format"),
        (lambda settings: image_files.jpeg_bytes(800, 600)[:3000], "cut.jpg", "image_corrupt"),
    ],
    ids=[
        "renamed-text",
        "zero-bytes",
        "oversize",
        "oversize-body",
        "bomb",
        "animated-webp",
        "apng",
        "gif",
        "cut-short",
    ],
)
def test_what_is_not_a_usable_image_is_a_400_naming_image_and_stores_nothing(
    staff_client, product, media_root, settings, make, name, code
):
    response = post_image(staff_client, product, make(settings), name=name)

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert [error["field"] for error in response.json()["errors"]] == ["image"]
    assert ProductImage.objects.count() == 0
    assert stored_files(media_root) == []


def test_the_pixel_limit_is_a_setting(staff_client, product, settings):
    settings.PRODUCT_IMAGE_MAX_PIXELS = 1_000_000

    refused = post_image(staff_client, product, image_files.jpeg_bytes(1001, 1000))
    taken = post_image(staff_client, product, image_files.jpeg_bytes(1000, 1000))

    assert (refused.status_code, refused.json()["code"]) == (400, "image_too_many_pixels")
    assert refused.json()["message"] == "The image has more than 1 million pixels."
    assert taken.status_code == 201


def test_an_upload_needs_a_file_a_known_product_and_multipart(staff_client, product, media_root):
    no_file = staff_client.post(images_url(product), {"alt_text": "정면"}, format="multipart")
    unknown = staff_client.post(
        f"{PRODUCTS}staff/{uuid.uuid4()}/images/",
        {"image": image_files.upload(image_files.jpeg_bytes(100, 100))},
        format="multipart",
    )
    as_json = staff_client.post(images_url(product), {"image": "aGVsbG8="}, format="json")
    long_alt = post_image(staff_client, product, image_files.jpeg_bytes(100, 100), alt_text="가" * 201)

    assert (no_file.status_code, no_file.json()["errors"][0]["field"]) == (400, "image")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "product_not_found")
    assert (as_json.status_code, as_json.json()["code"]) == (415, "unsupported_media_type")
    assert (long_alt.status_code, long_alt.json()["errors"][0]["field"]) == (400, "alt_text")
    assert ProductImage.objects.count() == 0
    assert stored_files(media_root) == []


def test_customers_cannot_upload_or_change_images(customer_client, staff_client, product, media_root):
    image = post_image(staff_client, product, image_files.jpeg_bytes(100, 100)).json()

    upload = post_image(customer_client, product, image_files.jpeg_bytes(100, 100))
    change = customer_client.patch(f"{images_url(product)}{image['id']}/", {"alt_text": "x"}, format="json")
    delete = customer_client.delete(f"{images_url(product)}{image['id']}/")

    assert [upload.status_code, change.status_code, delete.status_code] == [403, 403, 403]
    assert list(ProductImage.objects.values_list("alt_text", flat=True)) == ["정면"]
    assert len(stored_files(media_root)) == 4


def upload_three(client, product) -> list[str]:
    return [post_image(client, product, image_files.jpeg_bytes(120, 90), alt_text=alt).json()["id"] for alt in "abc"]


def order_of(product) -> list[tuple[str, int, bool]]:
    rows = ProductImage.objects.filter(product=product).order_by("position")
    return list(rows.values_list("alt_text", "position", "is_primary"))


def test_the_first_image_is_primary_until_staff_choose_another(staff_client, product):
    _, _, c = upload_three(staff_client, product)
    assert order_of(product) == [("a", 0, True), ("b", 1, False), ("c", 2, False)]

    chosen = staff_client.patch(f"{images_url(product)}{c}/", {"is_primary": True}, format="json")
    unset = staff_client.patch(f"{images_url(product)}{c}/", {"is_primary": False}, format="json")

    assert chosen.status_code == 200
    assert chosen.json()["is_primary"] is True
    assert (unset.status_code, unset.json()["code"]) == (400, "product_image_primary_required")
    assert unset.json()["errors"][0]["field"] == "is_primary"
    assert order_of(product) == [("a", 0, False), ("b", 1, False), ("c", 2, True)]


def test_staff_move_an_image_and_change_its_alt_text(staff_client, product):
    a, _, c = upload_three(staff_client, product)

    first = staff_client.patch(f"{images_url(product)}{c}/", {"position": 0, "alt_text": "측면"}, format="json")
    last = staff_client.patch(f"{images_url(product)}{first.json()['id']}/", {"position": 99}, format="json")
    middle = staff_client.patch(f"{images_url(product)}{a}/", {"position": 1}, format="json")
    bad = staff_client.patch(f"{images_url(product)}{a}/", {"position": -1}, format="json")

    assert (first.json()["position"], first.json()["alt_text"]) == (0, "측면")
    assert last.json()["position"] == 2
    assert middle.json()["position"] == 1
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (400, "position")
    assert order_of(product) == [("b", 0, False), ("a", 1, True), ("측면", 2, False)]


def test_deleting_an_image_removes_its_files_and_passes_the_primary_on(
    staff_client, product, media_root, django_capture_on_commit_callbacks
):
    a, _, _ = upload_three(staff_client, product)
    files_of_a = [name for name in stored_files(media_root) if a in name]

    with django_capture_on_commit_callbacks(execute=True):
        deleted = staff_client.delete(f"{images_url(product)}{a}/")

    assert deleted.status_code == 204
    assert order_of(product) == [("b", 0, True), ("c", 1, False)]
    assert len(files_of_a) == 4
    assert [name for name in stored_files(media_root) if a in name] == []
    assert len(stored_files(media_root)) == 8
    again = staff_client.delete(f"{images_url(product)}{a}/")
    assert (again.status_code, again.json()["code"]) == (404, "product_image_not_found")


def test_a_rolled_back_delete_keeps_the_files(staff_client, product, media_root, django_capture_on_commit_callbacks):
    from django.db import transaction

    (image_id,) = [post_image(staff_client, product, image_files.jpeg_bytes(100, 100)).json()["id"]]

    class Abort(Exception):
        pass

    def delete_then_fail():
        with transaction.atomic():
            services.product_image_delete(product_id=product.pk, image_id=image_id)
            raise Abort()

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Abort):
        delete_then_fail()

    assert ProductImage.objects.filter(pk=image_id).exists()
    assert len(stored_files(media_root)) == 4


def test_an_image_of_another_product_is_not_found(staff_client, product, media_root):
    other = ProductFactory()
    image_id = post_image(staff_client, other, image_files.jpeg_bytes(100, 100)).json()["id"]

    change = staff_client.patch(f"{images_url(product)}{image_id}/", {"alt_text": "x"}, format="json")
    delete = staff_client.delete(f"{images_url(product)}{image_id}/")

    assert (change.status_code, change.json()["code"]) == (404, "product_image_not_found")
    assert (delete.status_code, delete.json()["code"]) == (404, "product_image_not_found")
    assert ProductImage.objects.get().alt_text == "정면"
    assert len(stored_files(media_root)) == 4


def test_a_product_takes_at_most_the_image_limit(staff_client, product, media_root, settings):
    settings.PRODUCT_IMAGES_MAX = 2
    upload = image_files.jpeg_bytes(100, 100)
    taken = [post_image(staff_client, product, upload).status_code for _ in range(2)]

    refused = post_image(staff_client, product, upload)

    assert taken == [201, 201]
    assert (refused.status_code, refused.json()["code"]) == (409, "product_image_limit_reached")
    assert refused.json()["errors"][0]["field"] == "image"
    assert ProductImage.objects.count() == 2
    assert len(stored_files(media_root)) == 8  # the refused one's files were removed again


def test_staff_list_a_products_images_in_order_even_off_sale(staff_client, product, django_assert_num_queries):
    a, b, c = upload_three(staff_client, product)
    staff_client.patch(f"{images_url(product)}{c}/", {"position": 0}, format="json")
    product.is_active = False
    product.save()

    with django_assert_num_queries(4):  # the staff user, the product, the count, the page
        listed = staff_client.get(images_url(product))
    unknown = staff_client.get(f"{PRODUCTS}staff/{uuid.uuid4()}/images/")

    assert [image["id"] for image in listed.json()["results"]] == [c, a, b]
    assert listed.json()["count"] == 3
    assert (unknown.status_code, unknown.json()["code"]) == (404, "product_not_found")


def test_the_catalog_shows_the_primary_image_and_the_detail_all_in_order(
    staff_client, api_client, product, django_assert_num_queries, django_capture_on_commit_callbacks
):
    bare = ProductFactory(name="이미지 없는 상품")
    with django_capture_on_commit_callbacks(execute=True):
        a, b, c = upload_three(staff_client, product)
        staff_client.patch(f"{images_url(product)}{b}/", {"is_primary": True, "position": 0}, format="json")

    with django_assert_num_queries(4):  # invalidations left over, count, page, primary images
        listed = {item["name"]: item for item in api_client.get(PRODUCTS).json()["results"]}
    with django_assert_num_queries(3):  # product with category, images, sentiment
        detail = api_client.get(f"{PRODUCTS}{product.pk}/").json()
    bare_detail = api_client.get(f"{PRODUCTS}{bare.pk}/").json()

    primary = listed["소니 무선 이어폰"]["primary_image"]
    assert primary["id"] == b
    assert primary["variants"] == {size: f"/media/products/variants/{b}/{size}.webp" for size in SIZES}
    assert listed["이미지 없는 상품"]["primary_image"] is None
    assert detail["primary_image"] == primary
    assert [(image["id"], image["position"], image["is_primary"]) for image in detail["images"]] == [
        (b, 0, True),
        (a, 1, False),
        (c, 2, False),
    ]
    assert (bare_detail["primary_image"], bare_detail["images"]) == (None, [])


def test_image_changes_refresh_the_cached_catalog(
    staff_client, api_client, product, django_assert_num_queries, django_capture_on_commit_callbacks
):
    def shown():
        listed = api_client.get(PRODUCTS).json()["results"][0]["primary_image"]
        detail = api_client.get(f"{PRODUCTS}{product.pk}/").json()
        return listed and listed["alt_text"], [image["alt_text"] for image in detail["images"]]

    assert shown() == (None, [])
    with django_assert_num_queries(0):
        assert shown() == (None, [])  # cached

    with django_capture_on_commit_callbacks(execute=True):
        a, _, _ = upload_three(staff_client, product)
    assert shown() == ("a", ["a", "b", "c"])

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.patch(f"{images_url(product)}{a}/", {"alt_text": "정면 사진"}, format="json")
    assert shown() == ("정면 사진", ["정면 사진", "b", "c"])

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.delete(f"{images_url(product)}{a}/")
    assert shown() == ("b", ["b", "c"])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_uploads_make_one_primary(product, media_root):
    content = image_files.jpeg_bytes(300, 200)

    def upload():
        return services.product_image_upload(product_id=product.pk, image=io.BytesIO(content)).pk

    uploaded = in_threads([upload] * 4)

    rows = ProductImage.objects.filter(product=product)
    assert sorted(rows.values_list("position", flat=True)) == [0, 1, 2, 3]
    assert rows.filter(is_primary=True).count() == 1
    assert set(rows.values_list("pk", flat=True)) == set(uploaded)
    assert len(stored_files(media_root)) == 16


# --- the admin ---------------------------------------------------------------------------------


@pytest.fixture
def admin_browser(staff_user) -> Client:
    staff_user.is_superuser = True
    staff_user.save()
    browser = Client()
    browser.force_login(staff_user)
    return browser


def change_form(product, rows: list[dict], new: list[dict] = ()) -> dict:
    """The product's change form as the admin posts it: its fields, and the image rows (existing ones
    first, by id; `new` ones with a file), the other inlines empty."""
    data = {
        "name": product.name,
        "category": str(product.category_id),
        "brand": product.brand,
        "price": str(product.price),
        "is_active": "on",
        "images-TOTAL_FORMS": str(len(rows) + len(new)),
        "images-INITIAL_FORMS": str(len(rows)),
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "20",
        "_save": "Save",
    }
    for prefix in ("stock_adjustments", "reviews"):
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0", f"{prefix}-MIN_NUM_FORMS": "0"}
        data[f"{prefix}-MAX_NUM_FORMS"] = "1000"
    for index, row in enumerate([*rows, *new]):
        data[f"images-{index}-product"] = str(product.pk)
        for name, value in row.items():
            data[f"images-{index}-{name}"] = value
    return data


def admin_url(product) -> str:
    return f"/admin/products/product/{product.pk}/change/"


def test_staff_add_images_in_the_admin_checked_as_through_the_api(admin_browser, product, media_root):
    new = [
        {"upload": image_files.upload(image_files.jpeg_bytes(1200, 900), "a.jpg"), "alt_text": "정면"},
        {"upload": image_files.upload(b"not an image", "b.jpg"), "alt_text": "측면"},
    ]

    refused = admin_browser.post(admin_url(product), change_form(product, [], new))
    assert refused.status_code == 200  # the form again, with the row's error
    assert "Upload a JPEG, PNG or WebP image." in refused.content.decode()
    assert ProductImage.objects.count() == 0
    assert stored_files(media_root) == []

    new[0]["upload"].seek(0)
    saved = admin_browser.post(admin_url(product), change_form(product, [], new[:1]))

    assert saved.status_code == 302
    image = ProductImage.objects.get()
    assert (image.alt_text, image.is_primary, image.position, image.width) == ("정면", True, 0, 1200)
    assert sorted(image.variants) == ["detail", "list", "thumbnail"]
    assert len(stored_files(media_root)) == 4
    page = admin_browser.get(admin_url(product)).content.decode()
    assert f"/media/products/variants/{image.pk}/thumbnail.webp" in page
    assert (
        f"/media/products/variants/{image.pk}/thumbnail.webp"
        in admin_browser.get("/admin/products/product/").content.decode()
    )


def test_staff_reorder_choose_the_primary_and_delete_in_the_admin(
    admin_browser, staff_client, product, media_root, django_capture_on_commit_callbacks
):
    a, b, c = upload_three(staff_client, product)
    rows = [
        {"id": a, "alt_text": "a", "place": "2", "primary": "on", "DELETE": "on"},
        {"id": b, "alt_text": "b 측면", "place": "1"},
        {"id": c, "alt_text": "c", "place": "0", "primary": "on"},
    ]
    rows[0].pop("primary")  # a is deleted; c is chosen

    with django_capture_on_commit_callbacks(execute=True):
        saved = admin_browser.post(admin_url(product), change_form(product, rows))

    assert saved.status_code == 302, saved.content.decode()[:2000]
    assert order_of(product) == [("c", 0, True), ("b 측면", 1, False)]
    assert [name for name in stored_files(media_root) if a in name] == []


def test_the_admin_keeps_one_primary(admin_browser, staff_client, product):
    a, b, c = upload_three(staff_client, product)
    none_chosen = [{"id": a, "alt_text": "a", "place": "0"}, {"id": b, "alt_text": "b", "place": "1"}]
    none_chosen.append({"id": c, "alt_text": "c", "place": "2"})
    two_chosen = [dict(row, primary="on") for row in none_chosen]

    for rows in (none_chosen, two_chosen):
        response = admin_browser.post(admin_url(product), change_form(product, rows))
        assert response.status_code == 200
        assert "primary" in response.content.decode()
    assert order_of(product) == [("a", 0, True), ("b", 1, False), ("c", 2, False)]


def test_deleting_a_product_in_the_admin_removes_its_image_files(
    admin_browser, staff_client, media_root, django_capture_on_commit_callbacks
):
    product = ProductFactory()
    upload_three(staff_client, product)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_browser.post(f"/admin/products/product/{product.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert ProductImage.objects.count() == 0
    assert stored_files(media_root) == []
