from celery import shared_task

from orders import services


@shared_task(name="orders.tasks.expire_unpaid_orders")
def expire_unpaid_orders() -> int:
    return services.order_expire_unpaid()
