"""WhiteNoise, serving STATIC_ROOT only where collectstatic filled it."""

from pathlib import Path

from whitenoise.middleware import WhiteNoiseMiddleware


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """Outside the image STATIC_ROOT does not exist and the finders serve the apps' static folders
    (WHITENOISE_USE_FINDERS): WhiteNoise would warn "No directory at" in every process for nothing.
    Where the finders are off (production) a missing STATIC_ROOT is a broken image, and still warns."""

    def add_files(self, root, prefix=None):
        if self.use_finders and root == self.static_root and not Path(root).is_dir():
            return
        super().add_files(root, prefix=prefix)
