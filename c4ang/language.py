"""The language each request is answered in: Korean by default (LANGUAGE_CODE), English on request.

Staff pages (the admin, the dashboard) follow Django's LocaleMiddleware: the language staff chose in
the admin's switcher (a cookie), else the browser's Accept-Language. The API reads Accept-Language
only: an app says which language its user reads on every request, and a cookie left by the admin
in the same browser never changes what the API says. Either way only messages are translated: the
machine-readable `code` and `field` of an error are the same in every language.
"""

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header

API_PREFIX = "/api/"


def language_from_accept_language(header: str) -> str:
    """The first language of the header the platform speaks (`ko-KR` → `ko`), else the default."""
    for code, _quality in parse_accept_lang_header(header):
        if code == "*":
            break
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return translation.get_supported_language_variant(settings.LANGUAGE_CODE)


class LanguageMiddleware(LocaleMiddleware):
    def process_request(self, request):
        if not request.path_info.startswith(API_PREFIX):
            super().process_request(request)
            return
        language = language_from_accept_language(request.headers.get("Accept-Language", ""))
        translation.activate(language)
        request.LANGUAGE_CODE = language
