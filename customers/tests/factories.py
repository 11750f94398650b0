"""Logins and customers for tests. A customer's email is its login's, as customer_register makes them."""

import factory
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from factory.django import DjangoModelFactory, Password

from customers.models import Customer, CustomerAddress, User

PASSWORD = "correct horse battery staple"
STAFF_PASSWORD = "staff password 1234"


def hashed_for_live_server(password: str) -> str:
    """The password hashed as a real server checks it: the suite hashes with MD5, which its gunicorn refuses.
    A factory stores it as is when forced: UserFactory(password=factory.Transformer.Force(hashed))."""
    hasher = PBKDF2PasswordHasher()
    return hasher.encode(password, hasher.salt())


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.kr")
    # Hashed when the user is built, by the hasher the test runs with (MD5 in the suite).
    password = Password(PASSWORD)


class StaffFactory(UserFactory):
    email = factory.Sequence(lambda n: f"staff{n}@c4ang.com")
    password = Password(STAFF_PASSWORD)
    is_staff = True


class CustomerFactory(DjangoModelFactory):
    """CustomerFactory(user__password="...") for another password; the email is lower case, as registered."""

    class Meta:
        model = Customer

    email = factory.Sequence(lambda n: f"customer{n}@example.kr")
    name = factory.Sequence(lambda n: f"고객{n}")
    user = factory.SubFactory(UserFactory, email=factory.SelfAttribute("..email"))


class CustomerAddressFactory(DjangoModelFactory):
    """An address in a customer's book, stored as customers.services stores one (canonical phone and
    postal code). Give is_default=True to the one default: the factory does not keep the one-default
    rule (address_create does)."""

    class Meta:
        model = CustomerAddress

    customer = factory.SubFactory(CustomerFactory)
    label = "집"
    recipient = factory.SelfAttribute("customer.name")
    phone = factory.Sequence(lambda n: f"010-{1000 + n // 10000 % 9000:04d}-{n % 10000:04d}")
    postal_code = "06236"
    road_address = "서울특별시 강남구 테헤란로 152"
    detail = factory.Sequence(lambda n: f"{n % 30 + 1}층 {n}호")
    is_default = False
