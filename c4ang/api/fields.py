"""Serializer fields every module's API shares."""

from rest_framework import serializers


class MoneyField(serializers.DecimalField):
    """An amount of money (KRW) as the models store it: up to 10 digits, 2 of them after the point."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=10, decimal_places=2, **kwargs)
