from celery import shared_task

from saga import services


@shared_task(name="saga.tasks.recover_sagas")
def recover_sagas() -> dict[str, int]:
    return services.saga_recover()
