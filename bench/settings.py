"""The platform's settings plus one bare Django view: the framework ceiling the cached API is measured against."""

from c4ang.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
