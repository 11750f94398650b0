from celery import shared_task
from django.core.management import call_command


@shared_task(name="customers.tasks.flush_expired_tokens")
def flush_expired_tokens() -> None:
    """Drop refresh tokens past their expiry (and their blacklist rows): they are refused anyway."""
    call_command("flushexpiredtokens")
