"""A saga's compensation reason becomes a code and a note: "code: text" is split into
payload["compensation_reason"] (the code) and payload["compensation_note"] (the text); a reason
without ": " is the code alone. The two reasons the engine itself wrote as text get their codes."""

from django.db import migrations

REASON_KEY = "compensation_reason"
NOTE_KEY = "compensation_note"
BATCH = 500


def _rewrite(apps, change) -> None:
    SagaInstance = apps.get_model("saga", "SagaInstance")
    changed = []
    for saga in SagaInstance.objects.filter(payload__has_key=REASON_KEY).only("id", "payload").iterator(BATCH):
        payload = change(dict(saga.payload))
        if payload != saga.payload:
            saga.payload = payload
            changed.append(saga)
        if len(changed) == BATCH:
            SagaInstance.objects.bulk_update(changed, ["payload"])
            changed = []
    SagaInstance.objects.bulk_update(changed, ["payload"])


def split(payload: dict) -> dict:
    if NOTE_KEY in payload:
        return payload  # already a code and a note
    reason = str(payload[REASON_KEY])
    if reason.startswith("compensated by "):  # the admin action
        return {**payload, REASON_KEY: "staff_request", NOTE_KEY: reason}
    code, _, note = reason.partition(": ")
    if code == "recovery":
        code = "recovery_gave_up"
    return {**payload, REASON_KEY: code, NOTE_KEY: note}


def join(payload: dict) -> dict:
    note = payload.pop(NOTE_KEY, "")
    if note:
        payload[REASON_KEY] = f"{payload[REASON_KEY]}: {note}"
    return payload


def split_reasons(apps, schema_editor):
    _rewrite(apps, split)


def join_reasons(apps, schema_editor):
    _rewrite(apps, join)


class Migration(migrations.Migration):
    dependencies = [
        ("saga", "0002_commerce_core"),
    ]

    operations = [
        migrations.RunPython(split_reasons, join_reasons),
    ]
