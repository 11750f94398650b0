from django.contrib import admin

from c4ang.actors import actor_of
from c4ang.admin_actions import NoDeleteMixin, run_for_each
from c4ang.admin_display import Tone, status_badge
from saga import services
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
    fields = ["created_at", "step", "event_type", "payload"]
    readonly_fields = fields
    ordering = ["created_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SagaInstance)
class SagaInstanceAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = [
        "short_id",
        "saga_type",
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
        "saga_type",
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

    @admin.action(description="Retry (continue a stuck saga, or finish its compensation)")
    def retry(self, request, queryset):
        run_for_each(self, request, queryset, lambda saga: services.saga_retry(saga_id=saga.pk), "Retried")

    @admin.action(description="Compensate (undo every completed step)")
    def compensate(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset,
            lambda saga: services.saga_compensate_for_staff(saga_id=saga.pk, by=actor_of(request)),
            "Compensated",
        )

    @admin.display(description="saga")
    def short_id(self, saga):
        return str(saga.id)[:8]

    @admin.display(ordering="status", description="status")
    def status_badge(self, saga):
        return status_badge(saga.status, STATUS_TONES)

    # Sagas move only through the engine (retry / compensate actions).
    def has_add_permission(self, request):
        return False
