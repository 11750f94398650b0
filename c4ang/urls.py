"""Module-scoped URL mounting: a process serves only the prefixes of the modules in C4ANG_MODULES.

Every process also answers /healthz, /readyz and /metrics (see c4ang.health), the OpenAPI
schema of what it mounts and, with the files on its own disk, the uploaded images (c4ang.media).
"""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils import translation
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SCHEMA_KWARGS, SpectacularAPIView, SpectacularSwaggerView

from c4ang.media import media_urlpatterns

MODULE_PREFIXES = {
    "customers": "api/v1/customers/",
    "products": "api/v1/products/",
    "orders": "api/v1/orders/",
    "payments": "api/v1/payments/",
    "recommendations": "api/v1/recommendations/",
    "saga": "api/v1/saga/",
}


def module_urlpatterns(modules: list[str]) -> list:
    patterns = [path(MODULE_PREFIXES[module], include(f"{module}.urls")) for module in modules if module != "admin"]
    if "admin" in modules:
        # The back office's staff pages (the dashboard, "run now"), then the model admin.
        patterns.append(path("admin/", include("backoffice.urls")))
        # set_language: the admin's language switcher (Korean, English), under the admin's prefix.
        patterns.append(path("admin/i18n/", include("django.conf.urls.i18n")))
        patterns.append(path("admin/", admin.site.urls))
    return patterns


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema in English, the language of its descriptions (choice labels included),
    whatever the client's Accept-Language; `?lang=ko` asks for another."""

    @extend_schema(**SCHEMA_KWARGS)
    def get(self, request, *args, **kwargs):
        with translation.override("en"):
            return super().get(request, *args, **kwargs)


urlpatterns = [
    *module_urlpatterns(settings.C4ANG_MODULES),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    # The product images in the embedded default (var/media/); S3 serves them in production.
    *media_urlpatterns(),
]

handler400 = "c4ang.api.errors.bad_request"
handler404 = "c4ang.api.errors.page_not_found"
handler500 = "c4ang.api.errors.server_error"
