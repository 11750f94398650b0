"""Values of the payments module that other modules may name."""

from django.db import models


class PaymentStatus(models.TextChoices):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    FAILED = "FAILED"
    REFUNDED = "REFUNDED"
