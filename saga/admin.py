from django.contrib import admin

from saga.models import SagaEvent, SagaInstance


class SagaEventInline(admin.TabularInline):
    model = SagaEvent
    extra = 0
    can_delete = False
    readonly_fields = ["step", "event_type", "payload", "created_at"]


@admin.register(SagaInstance)
class SagaInstanceAdmin(admin.ModelAdmin):
    list_display = ["id", "saga_type", "status", "current_step", "attempts", "lease_expires_at", "updated_at"]
    list_filter = ["saga_type", "status"]
    search_fields = ["id"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "id",
        "saga_type",
        "status",
        "payload",
        "current_step",
        "attempts",
        "lease_expires_at",
        "last_error",
        "created_at",
        "updated_at",
    ]
    inlines = [SagaEventInline]
