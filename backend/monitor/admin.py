from django.contrib import admin

from .models import ProcessTarget, StepThreshold


@admin.register(ProcessTarget)
class ProcessTargetAdmin(admin.ModelAdmin):
    list_display = ["process_key", "days", "working_days"]


@admin.register(StepThreshold)
class StepThresholdAdmin(admin.ModelAdmin):
    list_display = ["process_key", "spec_id", "min_on_time_share", "active"]
    list_filter = ["process_key", "active"]
    list_editable = ["min_on_time_share", "active"]
