from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "backend.core"
    label = "core"

    def ready(self) -> None:
        from celery.signals import task_postrun
        from django.core.signals import request_finished

        from .files import delete_rolled_back_files

        # What a rolled-back transaction wrote is deleted when the request or task that wrote it ends.
        request_finished.connect(delete_rolled_back_files, dispatch_uid="qujat-files-request")
        task_postrun.connect(delete_rolled_back_files, dispatch_uid="qujat-files-task", weak=False)
