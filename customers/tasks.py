from celery import shared_task
from django.core.management import call_command

from customers import services


@shared_task(name="customers.tasks.flush_expired_tokens")
def flush_expired_tokens() -> None:
    """Drop refresh tokens past their expiry (and their blacklist rows): they are refused anyway."""
    call_command("flushexpiredtokens")


# An SMTP server that is down or refuses for a while (smtplib's errors are OSErrors) is tried again,
# a few times over some minutes: a reset link is wanted now or not at all.
@shared_task(
    name=services.RESET_MAIL_TASK, autoretry_for=(OSError,), max_retries=4, retry_backoff=30, retry_jitter=True
)
def password_reset_mail(email: str, language: str | None = None) -> None:
    """Mail a password reset link to the customer whose login is `email`, if there is one, in the
    language of the request that asked (the default for a task queued without one)."""
    services.password_reset_mail(email=email, language=language)
