from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from c4ang.actors import actor_of
from c4ang.admin_actions import NoDeleteMixin, run_for_each
from c4ang.admin_display import Tone, status_badge
from saga import selectors, services
from saga.constants import SagaStatus
from saga.models import SagaEvent, SagaInstance

STATUS_TONES = {
    SagaStatus.STARTED: Tone.WAITING,
    SagaStatus.COMPLETED: Tone.GOOD,
    SagaStatus.COMPENSATING: Tone.WORKING,
    SagaStatus.COMPENSATED: Tone.UNDONE,
    SagaStatus.FAILED: Tone.BAD,
}


class SagaEventInline(NoDeleteMixin, admin.TabularInline):
    """The saga's timeline: every step start, completion, failure and compensation."""

    model = SagaEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "step_name", "event_type", "payload"]
    readonly_fields = fields
    ordering = ["created_at"]

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("saga")  # each step's label is its saga type's

    @admin.display(description=_("step"))
    def step_name(self, event):
        return _named(selectors.saga_step_label(event.saga.saga_type, event.step), event.step)


@admin.register(SagaInstance)
class SagaInstanceAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = [
        "short_id",
        "saga_type_name",
        "status_badge",
        "current_step",
        "attempts",
        "lease_expires_at",
        "updated_at",
    ]
    list_filter = ["saga_type", "status", "created_at"]
    search_fields = ["id", "last_error"]
    date_hierarchy = "created_at"
    fields = [
        "id",
        "saga_type_name",
        "status",
        "current_step",
        "attempts",
        "lease_expires_at",
        "last_error",
        "payload",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    inlines = [SagaEventInline]
    actions = ["retry", "compensate"]

    @admin.action(description=_("Retry selected sagas (continue a stuck saga, or finish its compensation)"))
    def retry(self, request, queryset):
        run_for_each(self, request, queryset, lambda saga: services.saga_retry(saga_id=saga.pk), gettext("Retried"))

    @admin.action(description=_("Compensate selected sagas (undo every completed step)"))
    def compensate(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset,
            lambda saga: services.saga_compensate_for_staff(saga_id=saga.pk, by=actor_of(request)),
            gettext("Compensated"),
        )

    @admin.display(description=_("saga"))
    def short_id(self, saga):
        return str(saga.id)[:8]

    @admin.display(ordering="saga_type", description=_("saga type"))
    def saga_type_name(self, saga):
        return _named(selectors.saga_type_label(saga.saga_type), saga.saga_type)

    @admin.display(ordering="status", description=_("status"))
    def status_badge(self, saga):
        return status_badge(saga.status, saga.get_status_display(), STATUS_TONES)

    # Sagas move only through the engine (retry / compensate actions).
    def has_add_permission(self, request):
        return False


def _named(label, code: str) -> str:
    """A label staff read, with the code that logs and last_error name (take_payment) beside it."""
    return code if str(label) == code else f"{label} ({code})"
