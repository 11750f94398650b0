from celery import shared_task

from recommendations import services


# Not acknowledged late: a run redelivered after the broker's visibility timeout would only meet the
# job lock; a run lost with its worker is recorded as abandoned and caught up by the next one.
@shared_task(acks_late=False)
def daily_recommendation_pipeline(trigger: str = "schedule") -> str:
    """Beat, every day at 02:00 Asia/Seoul."""
    return services.recommendations_generate(trigger=trigger).status
