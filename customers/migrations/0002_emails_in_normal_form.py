"""Login emails in their one normal form (c4ang.emails): sign-in now looks them up by it.

Earlier rows were only stripped and lower-cased (registration) or stored as typed (the admin,
`create_staff`): `Kim@Ｅxample.kr` or `kim@xn--...` become their normal form here, and each
customer's email becomes its login's. An address that has no normal form (an invisible character,
look-alike letters, bad syntax) or whose normal form another account already has (a look-alike
registered next to the real one) stops the migration with the list of those logins; nothing is
changed. Which account is the real one, or what the address should be, only staff can tell: fix
each (admin: Users), then migrate again.
"""

from collections import defaultdict

from django.db import migrations
from django.db.models import F

from c4ang.emails import EmailRejected, normalize_email

BATCH = 2000
LISTED = 20


def emails_to_normal_form(apps, schema_editor):
    db = schema_editor.connection.alias
    User = apps.get_model("customers", "User")
    Customer = apps.get_model("customers", "Customer")
    changed, refused = {}, []
    holders = defaultdict(list)  # normal form -> the logins that would have it
    for pk, email in User.objects.using(db).values_list("pk", "email").order_by("pk").iterator(chunk_size=BATCH):
        try:
            normal = normalize_email(email)
        except EmailRejected as rejected:
            refused.append(f"  {pk} {email!r}: {rejected.message}")
            continue
        if normal != email:
            changed[pk] = normal
        holders[normal].append((pk, email))
    for normal, logins in holders.items():
        if len(logins) > 1:
            same = ", ".join(f"{pk} {email!r}" for pk, email in logins)
            refused.append(f"  {normal!r} is the normal form of {len(logins)} logins: {same}")
    if refused:
        more = [f"  … and {len(refused) - LISTED} more"] if len(refused) > LISTED else []
        raise RuntimeError(
            "\n".join(
                [
                    f"{len(refused)} login email(s) cannot be put in their normal form. Nothing was changed.",
                    "Give each login its own valid address (admin: Users), then run migrate again:",
                    *refused[:LISTED],
                    *more,
                ]
            )
        )
    users = list(User.objects.using(db).filter(pk__in=changed).only("pk", "email"))
    for user in users:
        user.email = changed[user.pk]
    User.objects.using(db).bulk_update(users, ["email"], batch_size=BATCH)
    customers = list(
        Customer.objects.using(db).exclude(email=F("user__email")).select_related("user").only("pk", "user__email")
    )
    for customer in customers:
        customer.email = customer.user.email
    Customer.objects.using(db).bulk_update(customers, ["email"], batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(emails_to_normal_form, migrations.RunPython.noop, elidable=True),
    ]
