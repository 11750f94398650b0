"""Who is signing in, and from where, for the sign-in lockout (django-axes settings point here).

The admin form signs in with `username`, the API's token endpoint with `email`: both are the same
account, counted together under the address's normal form (c4ang.emails), so neither a second
door nor upper case nor fullwidth letters reset the count. The address is the one the per-IP
request limits use (TRUSTED_PROXY_COUNT).
"""

from rest_framework.throttling import BaseThrottle

from c4ang.emails import sign_in_key


def sign_in_username(request, credentials: dict | None) -> str | None:
    credentials = credentials or {}
    return sign_in_key(credentials.get("username") or credentials.get("email"))


def client_ip(request) -> str:
    return BaseThrottle().get_ident(request)
