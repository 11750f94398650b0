"""Serving the uploaded files (product images) from MEDIA_ROOT, in the embedded default only.

With MEDIA_STORAGE=filesystem one machine holds the files, and `make run` has nothing else in
front of gunicorn to serve them: the app does, with Django's file view (which refuses paths outside
MEDIA_ROOT). With S3 the bucket (through its CDN) serves them and this is not mounted.
"""

from django.conf import settings
from django.urls import path
from django.views import View
from django.views.static import serve

# A file's name holds its image's id and is never written twice: browsers may keep it for good.
IMMUTABLE = "public, max-age=31536000, immutable"


class MediaFileView(View):
    http_method_names = ["get", "head"]

    def get(self, request, path):
        response = serve(request, path, document_root=settings.MEDIA_ROOT)
        response["Cache-Control"] = IMMUTABLE
        return response


def media_urlpatterns() -> list:
    """The route of MEDIA_URL, when this process keeps the files and MEDIA_URL is a path of its own."""
    if settings.MEDIA_STORAGE != "filesystem" or not settings.MEDIA_URL.startswith("/"):
        return []
    return [path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", MediaFileView.as_view(), name="media")]
