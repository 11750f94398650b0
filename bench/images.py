"""Upload of a 4000 x 3000 JPEG with its sizes: time and peak RSS of the process; not a test.

A photo of a phone camera's size (12 MP, JPEG quality 92, EXIF with an orientation) is uploaded
to a product, as staff upload one: decoded and checked, turned upright, re-encoded without EXIF,
and the three WebP sizes (1000, 400, 200 px wide) made and stored through the storage API (the
file system here: S3 adds its network round trips, not memory). Two ways, each in a fresh process
like a gunicorn worker, whose RSS is read before the first upload and whose peak (ru_maxrss)
after the last:
  - service: products.services.product_image_upload on the file (the work itself);
  - api: the staff API's multipart POST through the whole Django stack (JWT, DRF, the multipart
    parser spooling the file to a temporary file, the service).

    .venv/bin/python bench/images.py --uploads 7
"""

import argparse
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WIDTH, HEIGHT = 4000, 3000
PASSWORD = "bench-password-2026"  # noqa: S105 - a benchmark login on a throwaway database


def photo_jpeg() -> bytes:
    """A photo-like 4000 x 3000 JPEG: smooth gradients under sensor-like noise (a flat picture
    would compress to nothing and decode faster than a photo does), EXIF orientation 1."""
    from PIL import Image, ImageChops, ImageDraw, ImageFilter

    gradient = Image.linear_gradient("L").resize((WIDTH, HEIGHT))
    scene = Image.merge("RGB", (gradient, gradient.rotate(90).resize((WIDTH, HEIGHT)), gradient.transpose(0)))
    draw = ImageDraw.Draw(scene)
    for index in range(40):
        x, y = (index * 997) % WIDTH, (index * 613) % HEIGHT
        draw.ellipse((x, y, x + 400, y + 300), fill=((index * 50) % 256, (index * 90) % 256, (index * 130) % 256))
    noise = Image.effect_noise((WIDTH, HEIGHT), 24).convert("RGB")
    scene = ImageChops.add(scene.filter(ImageFilter.GaussianBlur(3)), noise, scale=1.6, offset=-60)
    exif = Image.Exif()
    exif[0x0112] = 1
    exif[0x010F] = "C4ang bench camera"
    buffer = io.BytesIO()
    scene.save(buffer, format="JPEG", quality=92, exif=exif.tobytes())
    return buffer.getvalue()


def rss_kib() -> int:
    """The process's resident set now (ru_maxrss is only the peak)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def child(mode: str, path: Path, uploads: int) -> dict:
    """One fresh process: Django on a throwaway SQLite database and media folder, then the uploads."""
    work = Path(tempfile.mkdtemp(prefix="c4ang-bench-images-"))
    os.environ.update(
        {"C4ANG_VAR_DIR": str(work), "MEDIA_ROOT": str(work / "media"), "LOG_LEVEL": "WARNING"},
        DJANGO_SETTINGS_MODULE="c4ang.settings",
        THROTTLE_USER="100000000/min",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    from customers import services as customer_services
    from products import services as product_services

    call_command("migrate", verbosity=0)
    category = product_services.category_get_or_create(name="카메라")
    product = product_services.product_create(
        name="벤치 미러리스 카메라", category=category, brand="벤치", price=Decimal("1290000"), stock=10
    )
    staff, _ = customer_services.staff_ensure(email="bench@c4ang.com", password=PASSWORD, superuser=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(staff).access_token}")
    content = path.read_bytes()

    def upload() -> None:
        if mode == "service":
            with path.open("rb") as file:
                product_services.product_image_upload(product_id=product.pk, image=file, alt_text="정면")
        else:
            response = client.post(
                f"/api/v1/products/staff/{product.pk}/images/",
                {"image": SimpleUploadedFile("photo.jpg", content, content_type="image/jpeg")},
                format="multipart",
            )
            if response.status_code != 201:
                sys.exit(f"upload failed: {response.status_code} {response.content[:300]!r}")

    before = rss_kib()
    timings = []
    for _ in range(uploads):
        started = time.perf_counter()
        upload()
        timings.append(time.perf_counter() - started)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"mode": mode, "timings_s": timings, "rss_before_kib": before, "peak_kib": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--uploads", type=int, default=7, help="uploads per process (default 7)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--photo", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, Path(args.photo), args.uploads)))
        return

    with tempfile.TemporaryDirectory() as folder:
        photo = Path(folder) / "photo.jpg"
        photo.write_bytes(photo_jpeg())
        print(
            f"photo: {WIDTH} x {HEIGHT} JPEG, {photo.stat().st_size / 2**20:.1f} MiB; {args.uploads} uploads a process"
        )
        for mode in ("service", "api"):
            run = subprocess.run(
                [sys.executable, __file__, "--child", mode, "--photo", str(photo), "--uploads", str(args.uploads)],
                capture_output=True,
                text=True,
                check=True,
            )
            result = json.loads(run.stdout.strip().splitlines()[-1])
            timings = [seconds * 1000 for seconds in result["timings_s"]]
            peak, before = result["peak_kib"] / 1024, result["rss_before_kib"] / 1024
            print(
                f"{mode:>8}: median {statistics.median(timings):6.0f} ms, fastest {min(timings):6.0f} ms, "
                f"slowest {max(timings):6.0f} ms (the first: {timings[0]:.0f} ms); "
                f"RSS {before:.0f} MiB before, peak {peak:.0f} MiB (+{peak - before:.0f} MiB)"
            )


if __name__ == "__main__":
    main()
