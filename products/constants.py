"""Values of the catalog that other modules may name."""

from django.db import models


class ReviewStatus(models.TextChoices):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
