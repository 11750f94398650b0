"""Request-rate limits that cost one cache round trip per request.

DRF's throttles keep the timestamp of every request in the window, a list read and rewritten on
each request and as long as the rate (600 entries for 600/min): on a cached endpoint that was
most of the work. These count requests per fixed window with one atomic increment instead.
"""

from rest_framework.throttling import SimpleRateThrottle


class FixedWindowRateThrottle(SimpleRateThrottle):
    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        window_key = f"{key}:{window}"
        try:
            count = self.cache.incr(window_key)
        except ValueError:  # first request of the window (or the key was evicted); add loses to a racing add
            count = 1 if self.cache.add(window_key, 1, self.duration) else self.cache.incr(window_key)
        self.window_ends = (window + 1) * self.duration
        # None: the cache is unreachable (django-redis ignores and logs its errors). The limits fail
        # open: refusing every request while Redis is down would turn a cache outage into an outage of
        # the whole API, while a few minutes without rate limits cost little (sign-in keeps its
        # password hashing cost, and every limit is back as soon as Redis is).
        return count is None or count <= self.num_requests

    def wait(self) -> float:
        return max(self.window_ends - self.now, 0)


class SignInAccountThrottle(FixedWindowRateThrottle):
    """Sign-in attempts per account (the email tried), whatever IP they come from: password
    guessing spread over many addresses still stops."""

    scope = "auth_account"

    def get_cache_key(self, request, view) -> str | None:
        email = request.data.get("email") if isinstance(request.data, dict) else None
        if not isinstance(email, str) or not email.strip():
            return None
        return self.cache_format % {"scope": self.scope, "ident": email.strip().lower()[:254]}


class AnonRateThrottle(FixedWindowRateThrottle):
    """Anonymous requests, per client IP."""

    scope = "anon"

    def get_cache_key(self, request, view) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class UserRateThrottle(FixedWindowRateThrottle):
    """Signed-in requests, per user (anonymous ones are AnonRateThrottle's)."""

    scope = "user"

    def get_cache_key(self, request, view) -> str | None:
        if not (request.user and request.user.is_authenticated):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
