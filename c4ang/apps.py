from django.apps import AppConfig


class PlatformConfig(AppConfig):
    name = "c4ang"
    verbose_name = "Platform"
