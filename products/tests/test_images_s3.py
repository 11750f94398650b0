"""Product images on S3 (production) through django-storages, against a local server speaking the
S3 API: moto in server mode, started here on a free port. The storage is configured by the same
environment variables as production (MEDIA_STORAGE=s3, MEDIA_S3_*), read by c4ang/settings.py in
a child process; uploads go through the staff API, reads back through the storage API and over HTTP
at the URLs the catalog shows."""

import json
import os
import subprocess
import sys
import urllib.request

import boto3
import pytest
from django.core.files.storage import default_storage
from moto.server import ThreadedMotoServer
from PIL import Image

from deploy.local import net
from products.models import ProductImage
from products.tests import image_files
from products.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

BUCKET = "c4ang-test-media"
REGION = "ap-northeast-2"
# Any key pair: moto checks none, botocore needs one to sign.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
PUBLIC_READ = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/products/*",
        }
    ],
}
SHOW_STORAGE = (
    "import json; from django.conf import settings; from django.core.files.storage import default_storage; "
    "print(json.dumps({'default': settings.STORAGES['default'], 'url': default_storage.url('products/a.webp')}))"
)


def manage_shell(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def s3_server():
    port = net.free_port()
    server = ThreadedMotoServer(ip_address=net.LOOPBACK, port=port, verbose=False)
    server.start()
    yield f"http://{net.LOOPBACK}:{port}"
    server.stop()


@pytest.fixture(scope="module")
def s3_storage_settings(s3_server) -> dict:
    """STORAGES["default"] as c4ang/settings.py builds it from the production variables."""
    shown = manage_shell(
        SHOW_STORAGE,
        MEDIA_STORAGE="s3",
        MEDIA_S3_BUCKET=BUCKET,
        MEDIA_S3_REGION=REGION,
        MEDIA_S3_ENDPOINT_URL=s3_server,
        **CREDENTIALS,
    )
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)["default"]


@pytest.fixture
def bucket(s3_server, s3_storage_settings, settings, monkeypatch):
    """An empty bucket on the local server, and the platform's storage pointed at it."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=s3_server, region_name=REGION)
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    # As in production behind the CDN (deploy/README.md): the images are readable by anyone.
    client.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(PUBLIC_READ))
    settings.STORAGES = {**settings.STORAGES, "default": s3_storage_settings}
    yield client
    for stored in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=stored["Key"])
    client.delete_bucket(Bucket=BUCKET)


def keys(client) -> list[str]:
    return sorted(stored["Key"] for stored in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_the_settings_build_an_s3_storage_from_the_environment(s3_storage_settings, s3_server):
    cdn = manage_shell(
        SHOW_STORAGE, MEDIA_STORAGE="s3", MEDIA_S3_BUCKET=BUCKET, MEDIA_S3_CUSTOM_DOMAIN="images.c4ang.com"
    )
    no_bucket = subprocess.run(
        [sys.executable, "manage.py", "check"],
        env={**os.environ, "MEDIA_STORAGE": "s3", "MEDIA_S3_BUCKET": ""},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert s3_storage_settings == {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": BUCKET,
            "region_name": REGION,
            "custom_domain": None,
            "endpoint_url": s3_server,
            "querystring_auth": False,
            "file_overwrite": True,
            "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
        },
    }
    assert cdn.returncode == 0, cdn.stderr
    # Through the CDN: plain URLs on its domain, nothing signed (they live in cached catalog pages).
    assert json.loads(cdn.stdout)["url"] == "https://images.c4ang.com/products/a.webp"
    assert no_bucket.returncode != 0
    assert "MEDIA_STORAGE=s3 needs MEDIA_S3_BUCKET" in no_bucket.stderr


def test_an_upload_round_trips_through_s3_and_its_delete_removes_every_object(
    bucket, staff_client, api_client, s3_server, django_capture_on_commit_callbacks
):
    product = ProductFactory()
    content = image_files.jpeg_bytes(1200, 900)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            f"/api/v1/products/staff/{product.pk}/images/",
            {"image": image_files.upload(content), "alt_text": "정면"},
            format="multipart",
        )
    assert response.status_code == 201
    body = response.json()
    image = ProductImage.objects.get()
    assert keys(bucket) == sorted(
        [f"products/originals/{image.pk}.jpg"]
        + [f"products/variants/{image.pk}/{size}.webp" for size in body["variants"]]
    )
    # Read back through django-storages: the stored original is the upload re-encoded, upright, EXIF-free.
    with default_storage.open(image.original.name) as stored:
        assert Image.open(stored).size == (1200, 900)
    # The catalog's URLs are the bucket's, readable as they are (no signature).
    detail = api_client.get(f"/api/v1/products/{product.pk}/").json()
    assert detail["primary_image"]["variants"] == body["variants"]
    assert body["url"] == f"{s3_server}/{BUCKET}/products/originals/{image.pk}.jpg"
    with urllib.request.urlopen(body["variants"]["list"], timeout=10) as served:  # noqa: S310 - the local server
        assert served.headers["Content-Type"] == "image/webp"
        assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert Image.open(served).size == (400, 300)

    with django_capture_on_commit_callbacks(execute=True):
        deleted = staff_client.delete(f"/api/v1/products/staff/{product.pk}/images/{image.pk}/")

    assert deleted.status_code == 204
    assert keys(bucket) == []
    assert ProductImage.objects.count() == 0


def test_a_refused_upload_leaves_nothing_in_the_bucket(bucket, staff_client, settings):
    settings.PRODUCT_IMAGES_MAX = 1
    product = ProductFactory()
    url = f"/api/v1/products/staff/{product.pk}/images/"
    first = staff_client.post(url, {"image": image_files.upload(image_files.jpeg_bytes(300, 200))}, format="multipart")

    over_limit = staff_client.post(
        url, {"image": image_files.upload(image_files.jpeg_bytes(300, 200))}, format="multipart"
    )
    not_an_image = staff_client.post(url, {"image": image_files.upload(b"%PDF-1.7")}, format="multipart")

    assert first.status_code == 201
    assert (over_limit.status_code, not_an_image.status_code) == (409, 400)
    assert len(keys(bucket)) == 4
