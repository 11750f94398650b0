from celery import shared_task

from sentiment import services


# Not acknowledged late: a run redelivered after the broker's visibility timeout would only meet the
# job lock; a run lost with its worker is recorded as abandoned and caught up by the next one.
@shared_task(acks_late=False)
def weekly_sentiment_analysis(trigger: str = "schedule") -> str:
    """Beat, every Sunday at 03:00 Asia/Seoul."""
    return services.sentiment_analyze(trigger=trigger).status
