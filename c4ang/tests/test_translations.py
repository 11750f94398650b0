"""No string the platform says goes untranslated: each app's Korean catalogue holds every string its
code marks, each translated, none fuzzy, none left over from strings no longer there.

makemessages runs on a copy of the apps (their code and templates, not their tests), so that the
committed catalogues are compared with what the code marks today, not changed by the test."""

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.apps import apps
from django.conf import settings

pytestmark = pytest.mark.no_database  # CI runs it once, in the embedded pass

ROOT = Path(settings.BASE_DIR)
LANGUAGES = [code for code, _name in settings.LANGUAGES if code != "en"]  # English is the source


def platform_apps() -> list[Path]:
    return sorted(Path(app.path) for app in apps.get_app_configs() if Path(app.path).parent == ROOT)


def catalogue(app: Path, language: str) -> Path:
    return app / "locale" / language / "LC_MESSAGES" / "django.po"


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    """The apps copied without their tests, with catalogues makemessages brought up to date."""
    if shutil.which("xgettext") is None:
        pytest.fail("makemessages needs gettext: `make test` installs it (Debian's package)")
    copy = tmp_path_factory.mktemp("messages")
    shutil.copy(ROOT / "manage.py", copy)
    for app in platform_apps():
        shutil.copytree(app, copy / app.name, ignore=shutil.ignore_patterns("tests", "__pycache__", "*.mo"))
    command = [sys.executable, "manage.py", "makemessages", "--no-location", "--no-obsolete", "-v", "0"]
    subprocess.run([*command, *(f"--locale={language}" for language in LANGUAGES)], cwd=copy, check=True)
    return copy


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_app_that_marks_strings_has_a_complete_catalogue(regenerated, language):
    problems = []
    for app in platform_apps():
        fresh_path = catalogue(regenerated / app.name, language)
        if not fresh_path.exists():
            continue  # the app marks no string
        fresh, committed = polib.pofile(str(fresh_path)), catalogue(app, language)
        if not committed.exists():
            problems.append(f"{app.name}: no {language} catalogue (run `make messages`, translate, commit)")
            continue
        problems += [f"{app.name}: untranslated {entry.msgid!r}" for entry in fresh.untranslated_entries()]
        problems += [f"{app.name}: fuzzy {entry.msgid!r}" for entry in fresh.fuzzy_entries()]
        kept = {(entry.msgctxt, entry.msgid) for entry in polib.pofile(str(committed)) if not entry.obsolete}
        marked = {(entry.msgctxt, entry.msgid) for entry in fresh}
        problems += [f"{app.name}: translated but no longer marked {msgid!r}" for _ctx, msgid in kept - marked]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_catalogues_compile_and_are_the_ones_the_platform_loads(language):
    for app in platform_apps():
        po = catalogue(app, language)
        if po.exists():
            subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(po)], check=True)
            assert po.with_suffix(".mo").stat().st_mtime >= po.stat().st_mtime, f"{po}: run `make compile-messages`"
