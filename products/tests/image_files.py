"""Image files for the image tests, made in memory with Pillow: real encodings, small sizes."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

ORIENTATION = 0x0112
MAKE = 0x010F


def encoded(image: Image.Image, image_format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def photo(width: int = 1600, height: int = 1200, mode: str = "RGB", color=(200, 60, 30)) -> Image.Image:
    """A picture with a left half and a right half of different colours, so that turns show."""
    image = Image.new(mode, (width, height), color)
    image.paste((20, 90, 200) if mode == "RGB" else (255, 0, 0, 0), (width // 2, 0, width, height))
    return image


def jpeg_bytes(width: int = 1600, height: int = 1200, *, exif: dict | None = None, mode: str = "RGB") -> bytes:
    """A JPEG; `exif` tags (e.g. {ORIENTATION: 6, MAKE: "Canon"}) are written into it."""
    options = {}
    if exif:
        tags = Image.Exif()
        for tag, value in exif.items():
            tags[tag] = value
        options["exif"] = tags.tobytes()
    return encoded(photo(width, height, mode=mode), "JPEG", quality=90, **options)


def upload(content: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def animated(image_format: str) -> bytes:
    frames = [Image.new("RGB", (64, 64), color) for color in ("red", "blue", "green")]
    return encoded(frames[0], image_format, save_all=True, append_images=frames[1:])


def bomb_png(side: int = 20_000) -> bytes:
    """A PNG of side x side pixels in a few kilobytes (one bit per pixel, all zero): decoded, it would
    take hundreds of megabytes."""
    return encoded(Image.new("1", (side, side)), "PNG")
