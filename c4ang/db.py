"""What every app's services share when they write rows."""

from django.db.models import Model


def save_fields(instance: Model, **fields) -> None:
    """Set `fields` on `instance` and save only those columns (and `updated_at`)."""
    for name, value in fields.items():
        setattr(instance, name, value)
    instance.save(update_fields=[*fields, "updated_at"])
