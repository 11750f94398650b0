"""The platform's settings plus one bare Django view: the framework ceiling the cached API is measured against."""

import json
import os

from c4ang.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

# bench/embedded_cache.py: each candidate server gets its cache configuration (JSON of CACHES).
if _bench_caches := os.environ.get("BENCH_CACHES"):
    CACHES = json.loads(_bench_caches)
