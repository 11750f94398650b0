from celery import shared_task

from payments import services


@shared_task(name="payments.tasks.recover_refunds")
def recover_refunds() -> int:
    return services.refund_recover()
