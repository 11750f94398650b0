import os

from django.http import JsonResponse
from django.urls import path

from c4ang import cache
from c4ang.urls import urlpatterns as platform_urlpatterns


def bare(request):
    """A plain Django view with a product-sized JSON body: no DRF, no cache, no database."""
    return JsonResponse(
        {
            "id": "7d9f1c7e-3c1b-4c55-9b0e-2f6f3c8e9a10",
            "name": "소니 프리미엄 무선 이어폰",
            "category": {"id": "0b7c4f0e-8a5f-4f8e-9d55-6c1f1a2b3c4d", "name": "전자제품"},
            "brand": "소니",
            "price": 129000,
            "stock": 42,
            "created_at": "2026-11-28T15:00:00+09:00",
            "sentiment": None,
        }
    )


urlpatterns = [path("bench/bare/", bare), *platform_urlpatterns]

# bench/invalidation_check.py: how often this server looks for cache invalidations left over.
if _every := os.environ.get("BENCH_PENDING_CHECK_S"):
    cache.PENDING_CHECK_S = float(_every)
