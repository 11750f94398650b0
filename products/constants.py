"""Values of the catalog that other modules may name."""

from django.db import models
from django.utils.translation import pgettext_lazy

# The stock column is a 32-bit integer (at most 2,147,483,647): staff stock stops here, leaving room
# for the units that open orders hold to come back when they are cancelled.
STOCK_MAX = 2_000_000_000


class ReviewStatus(models.TextChoices):
    PENDING = "PENDING", pgettext_lazy("review status", "Pending")
    APPROVED = "APPROVED", pgettext_lazy("review status", "Approved")
    REJECTED = "REJECTED", pgettext_lazy("review status", "Rejected")
