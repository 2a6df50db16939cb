from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import accounts, workflow

app_name = "api"

urlpatterns: list[URLPattern | URLResolver] = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("auth/token/", accounts.TokenObtainApi.as_view(), name="auth-token"),
    path("me/", accounts.MeApi.as_view(), name="me"),
]

urlpatterns += [
    path("processes/", workflow.ProcessListApi.as_view(), name="processes"),
    path("processes/<str:key>/start/", workflow.ProcessStartApi.as_view(), name="process-start"),
    path("instances/", workflow.InstanceListApi.as_view(), name="instances"),
    path("instances/<int:pk>/", workflow.InstanceDetailApi.as_view(), name="instance"),
    path("instances/<int:pk>/history/", workflow.InstanceHistoryApi.as_view(), name="instance-history"),
    *[
        path(
            f"instances/<int:pk>/{operation}/",
            workflow.InstanceOperationApi.as_view(operation=operation),
            name=f"instance-{operation}",
        )
        for operation in ("suspend", "resume", "cancel", "retry")
    ],
    path("tasks/", workflow.TaskListApi.as_view(), name="tasks"),
    path("tasks/<int:pk>/", workflow.TaskDetailApi.as_view(), name="task"),
    path("tasks/<int:pk>/claim/", workflow.TaskClaimApi.as_view(), name="task-claim"),
    path("tasks/<int:pk>/release/", workflow.TaskReleaseApi.as_view(), name="task-release"),
    path("tasks/<int:pk>/complete/", workflow.TaskCompleteApi.as_view(), name="task-complete"),
]

# One module per domain app; each defines its own urlpatterns.
urlpatterns += [
    path("", include("backend.api.inbox")),
    path("", include("backend.api.signatures")),
    path("", include("backend.api.reopen")),
    path("", include("backend.api.transcripts")),
    path("", include("backend.api.access")),
    path("", include("backend.api.jobs")),
    path("", include("backend.api.signing")),
]
