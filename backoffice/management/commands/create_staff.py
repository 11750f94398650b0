"""Create a staff login for the admin (or reset an existing one's password)."""

import getpass
import os
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from c4ang.errors import DomainError
from customers import services


class Command(BaseCommand):
    help = (
        "Create a staff account for the admin, or reset its password. The password comes from "
        "--password-env (the name of an environment variable) or an interactive prompt."
    )

    def add_arguments(self, parser):
        parser.add_argument("email", help="the staff member's email (their login)")
        parser.add_argument("--superuser", action="store_true", help="all permissions (default: staff only)")
        parser.add_argument("--password-env", metavar="VAR", help="read the password from this environment variable")

    def handle(self, *args, **options):
        if options["password_env"]:
            password = os.environ.get(options["password_env"], "")
            if not password:
                raise CommandError(
                    _("environment variable %(name)s is empty or unset") % {"name": options["password_env"]}
                )
        elif not sys.stdin.isatty():
            raise CommandError(_("no terminal to ask for the password: pass --password-env VAR"))
        else:
            password = getpass.getpass(_("Password: "))
            if password != getpass.getpass(_("Password (again): ")):
                raise CommandError(_("the two passwords differ"))
        try:
            user, created = services.staff_ensure(
                email=options["email"], password=password, superuser=options["superuser"]
            )
        except DomainError as error:
            raise CommandError(f"{error.code}: {error.message}") from None
        done = {
            (True, True): _("Created superuser %(email)s"),
            (True, False): _("Created staff %(email)s"),
            (False, True): _("Updated superuser %(email)s"),
            (False, False): _("Updated staff %(email)s"),
        }[created, user.is_superuser]
        self.stdout.write(self.style.SUCCESS(done % {"email": user.email}))
