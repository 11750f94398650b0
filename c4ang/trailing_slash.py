"""A path without its trailing slash is redirected with 308, not 301.

Django's CommonMiddleware (APPEND_SLASH) answers `POST /api/v1/orders` with a 301, which HTTP
clients follow as a GET, dropping the body (and in DEBUG it raises instead). A 308 Permanent
Redirect tells the client to repeat the same method with the same body at the slashed path, so a
client that forgot the slash still gets its order placed."""

from django.http.response import HttpResponseRedirectBase
from django.middleware import common
from django.utils.http import escape_leading_slashes


class HttpResponsePermanentRedirectSameMethod(HttpResponseRedirectBase):
    status_code = 308


class CommonMiddleware(common.CommonMiddleware):
    response_redirect_class = HttpResponsePermanentRedirectSameMethod

    def get_full_path_with_slash(self, request):
        # Django's own refuses a POST, PUT or PATCH in DEBUG: a 301 would lose its body; a 308 does not.
        return escape_leading_slashes(request.get_full_path(force_append_slash=True))
