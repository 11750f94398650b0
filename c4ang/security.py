"""Who is signing in, and from where, for the sign-in lockout (django-axes settings point here).

The admin form signs in with `username`, the API's token endpoint with `email`: both are the same
account, counted together and case-insensitively, so neither a second door nor upper case resets
the count. The address is the one the per-IP request limits use (TRUSTED_PROXY_COUNT).
"""

from rest_framework.throttling import BaseThrottle


def sign_in_username(request, credentials: dict | None) -> str | None:
    credentials = credentials or {}
    username = credentials.get("username") or credentials.get("email")
    if not isinstance(username, str):
        return None
    return username.strip().lower()[:254] or None


def client_ip(request) -> str:
    return BaseThrottle().get_ident(request)
