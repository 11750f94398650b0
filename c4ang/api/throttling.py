"""Request-rate limits that cost one cache round trip per request.

DRF's throttles keep the timestamp of every request in the window, a list read and rewritten on
each request and as long as the rate (600 entries for 600/min): on a cached endpoint that was
most of the work. These count requests per fixed window with one atomic increment instead (for the
cached public reads, in the same round trip as the read: c4ang.api.views.CachedPublicReadApi).
"""

from rest_framework.throttling import SimpleRateThrottle

from c4ang.cache import count_and_get
from c4ang.emails import sign_in_key


class FixedWindowRateThrottle(SimpleRateThrottle):
    def allow_request(self, request, view) -> bool:
        key = self.get_cache_key(request, view) if self.rate is not None else None
        if key is None:
            return True
        count, _ = count_and_get(self.window(key), self.duration, [])
        return self.allows(count)

    def window(self, key: str) -> str:
        """The counter of `key` in the current window (whose end `wait` tells)."""
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_ends = (window + 1) * self.duration
        return f"{key}:{window}"

    def allows(self, count: int | None) -> bool:
        # None: the cache is unreachable. The limits fail open: refusing every request while Redis
        # is down would turn a cache outage into an outage of the whole API, while a few minutes
        # without rate limits cost little (sign-in keeps its password hashing cost, and every limit
        # is back as soon as Redis is).
        return self.rate is None or count is None or count <= self.num_requests

    def wait(self) -> float:
        return max(self.window_ends - self.now, 0)

    def client_key(self, request) -> str:
        """The counter of this scope for the request's client IP."""
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class SignInAccountThrottle(FixedWindowRateThrottle):
    """Sign-in attempts per account (the email tried), whatever IP they come from: password
    guessing spread over many addresses still stops."""

    scope = "auth_account"

    def get_cache_key(self, request, view) -> str | None:
        account = sign_in_key(request.data.get("email")) if isinstance(request.data, dict) else None
        if account is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": account}


class AnonRateThrottle(FixedWindowRateThrottle):
    """Anonymous requests, per client IP."""

    scope = "anon"

    def get_cache_key(self, request, view) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.client_key(request)


class AuthRateThrottle(FixedWindowRateThrottle):
    """The auth endpoints (register, sign-in, token refresh, sign-out), per client IP."""

    scope = "auth"

    def get_cache_key(self, request, view) -> str:
        return self.client_key(request)


class UserRateThrottle(FixedWindowRateThrottle):
    """Signed-in requests, per user (anonymous ones are AnonRateThrottle's)."""

    scope = "user"

    def get_cache_key(self, request, view) -> str | None:
        if not (request.user and request.user.is_authenticated):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class PgWebhookRateThrottle(FixedWindowRateThrottle):
    """PG webhooks, per sending IP. A delivery refused here is not lost: Toss resends one that got
    no 200 after 1, 4, 16, … minutes (7 times), and a one-minute window is over by the first resend."""

    scope = "pg_webhook"

    def get_cache_key(self, request, view) -> str:
        return self.client_key(request)
