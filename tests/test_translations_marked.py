"""What the platform shows people is marked for translation where it is defined: every domain error's
message, model and field name, choice label, and the admin's columns, actions and filters.

makemessages sees only marked strings (c4ang/tests/test_translations.py keeps their translations
complete); these tests find the strings nobody marked."""

import importlib
import importlib.util
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.utils.functional import Promise

from c4ang.errors import DomainError

pytestmark = pytest.mark.no_database  # CI runs it once, in the embedded pass

ROOT = Path(settings.BASE_DIR)


def platform_app_configs():
    return [config for config in apps.get_app_configs() if Path(config.path).parent == ROOT]


def subclasses(cls):
    for subclass in cls.__subclasses__():
        yield subclass
        yield from subclasses(subclass)


def test_every_domain_error_has_a_message_marked_for_translation():
    for config in platform_app_configs():
        if importlib.util.find_spec(f"{config.name}.errors"):
            importlib.import_module(f"{config.name}.errors")
    errors = [DomainError, *(error for error in subclasses(DomainError) if "tests" not in error.__module__.split("."))]
    assert len(errors) > 50
    assert [error.__qualname__ for error in errors if not isinstance(error.message, Promise)] == []


def test_every_model_field_and_choice_of_ours_has_a_translatable_name():
    unmarked = [config.name for config in platform_app_configs() if not isinstance(config.verbose_name, Promise)]
    for config in platform_app_configs():
        for model in config.get_models():
            meta = model._meta
            for attribute in ("verbose_name", "verbose_name_plural"):
                if not isinstance(getattr(meta, attribute), Promise):
                    unmarked.append(f"{meta.label}.Meta.{attribute}")
            for field in meta.get_fields():
                if field.auto_created or (not field.concrete and not field.many_to_many):
                    continue  # Django's own id and the reverse sides of relations
                if not isinstance(field.verbose_name, Promise):
                    unmarked.append(f"{meta.label}.{field.name}")
                unmarked += [
                    f"{meta.label}.{field.name} choice {value!r}"
                    for value, label in field.flatchoices
                    if not isinstance(label, Promise)
                ]
    assert unmarked == []


def test_the_admin_columns_actions_and_filters_of_ours_are_marked_for_translation():
    unmarked = []
    for model, model_admin in admin.site._registry.items():
        if Path(model._meta.app_config.path).parent != ROOT:
            continue
        name = type(model_admin).__qualname__
        for column in model_admin.list_display:
            shown = column if callable(column) else getattr(model_admin, column, None)
            description = getattr(shown, "short_description", None)
            if description is not None and not isinstance(description, Promise):
                unmarked.append(f"{name} column {column}")
        for _action, action_name, description in model_admin._get_base_actions():
            if action_name != "delete_selected" and not isinstance(description, Promise):
                unmarked.append(f"{name} action {action_name}")
        for list_filter in model_admin.list_filter:
            title = getattr(list_filter, "title", None)
            if isinstance(list_filter, type) and not isinstance(title, Promise):
                unmarked.append(f"{name} filter {list_filter.__qualname__}")
    assert unmarked == []
