"""The Pillow work of product images: decode an upload safely, and encode what is stored of it.

An upload is trusted only once Pillow has decoded it as JPEG, PNG or WebP: its file name and
content type say nothing. The checks run cheapest first (size in bytes, the header's format and
pixel count, frames) so that a decompression bomb is refused before a single pixel is decoded.
What is stored is re-encoded: the original in its own format without its EXIF (the orientation
applied first), and the sizes the storefront shows as WebP, made once here at upload.
"""

import io
import warnings
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.utils.translation import gettext
from PIL import Image, ImageOps, UnidentifiedImageError

from products.errors import (
    ImageAnimated,
    ImageCorrupt,
    ImageEmpty,
    ImageTooBig,
    ImageTooManyPixels,
    ImageUnsupportedFormat,
)

FORMATS = ("JPEG", "PNG", "WEBP")
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
# The sizes the storefront shows, by their width in pixels (never wider than the original).
VARIANT_WIDTHS = {"detail": 1000, "list": 400, "thumbnail": 200}
VARIANT_QUALITY = 82
ORIGINAL_QUALITY = 90
# WebP's largest side: a tall 상세 image (860 x 20000 px) is scaled down to fit in it.
WEBP_MAX_SIDE = 16383


@dataclass(frozen=True)
class EncodedImage:
    content: bytes
    extension: str
    width: int
    height: int


@dataclass(frozen=True)
class ProcessedImage:
    """An accepted upload: the original to store and its sizes, by size name."""

    original: EncodedImage
    variants: dict[str, EncodedImage]


def image_process(upload: IO[bytes]) -> ProcessedImage:
    """Check an uploaded file by decoding it and make what is stored of it; an ImageRejected
    (field "image") names what is wrong. Animated images are refused, not cut to a frame; CMYK
    becomes RGB; transparency is kept (PNG and WebP)."""
    size = _size_of(upload)
    if size == 0:
        raise ImageEmpty(field="image")
    if size > settings.PRODUCT_IMAGE_MAX_BYTES:
        raise too_big()
    image = _open(upload)
    source_format = image.format
    icc_profile = image.info.get("icc_profile") if image.mode != "CMYK" else None  # a CMYK profile fits no RGB
    image = _oriented_rgb(image)
    original = _encode(image, source_format, icc_profile)
    variants = {}
    source = image
    for name, width in VARIANT_WIDTHS.items():  # widest first: each size is made from the one before
        source = _resized(source, width)
        variants[name] = _encode(source, "WEBP", icc_profile, quality=VARIANT_QUALITY)
    return ProcessedImage(original=original, variants=variants)


def too_big() -> ImageTooBig:
    limit = f"{settings.PRODUCT_IMAGE_MAX_BYTES / 2**20:.3g}"
    return ImageTooBig(gettext("The file is larger than %(limit)s MB.") % {"limit": limit}, field="image")


def _size_of(upload: IO[bytes]) -> int:
    size = getattr(upload, "size", None)
    if size is None:
        size = upload.seek(0, io.SEEK_END)
    upload.seek(0)
    return size


def _open(upload: IO[bytes]) -> Image.Image:
    """The decoded image; only its header is read before the pixel count is checked."""
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that: here the setting decides.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(upload, formats=FORMATS)
    except UnidentifiedImageError:
        raise ImageUnsupportedFormat(field="image") from None
    except Image.DecompressionBombError:
        raise _too_many_pixels() from None
    except (OSError, SyntaxError, ValueError):  # a header Pillow recognised but could not read
        raise ImageCorrupt(field="image") from None
    if image.width * image.height > settings.PRODUCT_IMAGE_MAX_PIXELS:
        raise _too_many_pixels()
    if getattr(image, "n_frames", 1) > 1:
        raise ImageAnimated(field="image")
    try:
        image.load()
    except (OSError, SyntaxError, ValueError, EOFError):  # truncated or damaged pixel data
        raise ImageCorrupt(field="image") from None
    return image


def _too_many_pixels() -> ImageTooManyPixels:
    limit = f"{settings.PRODUCT_IMAGE_MAX_PIXELS / 1_000_000:g}"
    return ImageTooManyPixels(
        gettext("The image has more than %(limit)s million pixels.") % {"limit": limit}, field="image"
    )


def _oriented_rgb(image: Image.Image) -> Image.Image:
    """Upright (EXIF orientation applied), in RGB, or RGBA where it has transparency."""
    ImageOps.exif_transpose(image, in_place=True)  # in place: no copy of an image without orientation
    transparent = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    mode = "RGBA" if transparent else "RGB"
    if image.mode == mode:
        return image
    if image.mode.startswith("I;16") or image.mode == "I":
        # 16-bit greyscale: scaled to 8 bits (a plain convert would clip most of it to white).
        image = image.convert("I").point(lambda value: value / 256).convert("L")
    return image.convert(mode)


def _resized(image: Image.Image, width: int) -> Image.Image:
    scale = min(width / image.width, WEBP_MAX_SIDE / image.width, WEBP_MAX_SIDE / image.height, 1)
    if scale == 1:
        return image
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    # reducing_gap: a fast box reduction by a whole factor first, then Lanczos over the last factor of 2 or less.
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)


def _encode(image: Image.Image, image_format: str, icc_profile: bytes | None, quality: int = ORIGINAL_QUALITY):
    """The image in `image_format`, without EXIF or any other metadata than its colour profile."""
    if image_format == "WEBP" and max(image.size) > WEBP_MAX_SIDE:
        image = _resized(image, image.width)
    if image_format == "JPEG" and image.mode != "RGB":
        image = image.convert("RGB")
    options = {"icc_profile": icc_profile} if icc_profile else {}
    if image_format == "JPEG":
        options |= {"quality": quality}
    elif image_format == "WEBP":
        options |= {"quality": quality, "method": 4}
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return EncodedImage(buffer.getvalue(), EXTENSIONS[image_format], image.width, image.height)
