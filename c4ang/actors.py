"""Who did something: one value built once per request or job, passed to every service that
writes an audit row, and written by those services in one format (`kind:identity`)."""

from dataclasses import dataclass

from django.db import models


class ActorKind(models.TextChoices):
    CUSTOMER = "customer"
    STAFF = "staff"
    SYSTEM = "system"
    PG = "pg"


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    identity: str  # a customer's or staff member's email, a job's name, a PG's name

    def __str__(self) -> str:
        """The audit rows' format: `staff:kim@c4ang.com`, `system:order_expiry`, `pg:toss`."""
        return f"{self.kind.value}:{self.identity}"

    @classmethod
    def system(cls, job: str) -> "Actor":
        return cls(ActorKind.SYSTEM, job)

    @classmethod
    def pg(cls, provider: str) -> "Actor":
        return cls(ActorKind.PG, provider)


def actor_of(request) -> Actor:
    """The signed-in user of a request (API or admin): staff when they are staff, else a customer."""
    user = request.user
    return Actor(ActorKind.STAFF if user.is_staff else ActorKind.CUSTOMER, user.email)
