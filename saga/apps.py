from django.apps import AppConfig


class SagaConfig(AppConfig):
    name = "saga"
    verbose_name = "Saga"
