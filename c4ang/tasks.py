from celery import shared_task

from c4ang import cache


@shared_task(name="c4ang.tasks.apply_cache_invalidations")
def apply_cache_invalidations() -> bool:
    """Drop the cached copies that writes could not drop themselves (the cache was unreachable), even
    where no reader comes to apply them; False while the cache still cannot be reached."""
    return cache.invalidations_apply()
