"""Create a staff login for the admin (or reset an existing one's password)."""

import getpass
import os
import sys

from django.core.management.base import BaseCommand, CommandError

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
                raise CommandError(f"environment variable {options['password_env']} is empty or unset")
        elif not sys.stdin.isatty():
            raise CommandError("no terminal to ask for the password: pass --password-env VAR")
        else:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("the two passwords differ")
        try:
            user, created = services.staff_ensure(
                email=options["email"], password=password, superuser=options["superuser"]
            )
        except DomainError as error:
            raise CommandError(f"{error.code}: {error.message}") from None
        role = "superuser" if user.is_superuser else "staff"
        self.stdout.write(self.style.SUCCESS(f"{'Created' if created else 'Updated'} {role} {user.email}"))
