from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, URLResolver, include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.exceptions import NotFound

from . import accounts, workflow
from .schema import start_form_keys

app_name = "api"

urlpatterns: list[URLPattern | URLResolver] = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("auth/token/", accounts.TokenObtainApi.as_view(), name="auth-token"),
    path("auth/logout/", accounts.LogoutApi.as_view(), name="auth-logout"),
    path("me/", accounts.MeApi.as_view(), name="me"),
]

urlpatterns += [
    path("processes/", workflow.ProcessListApi.as_view(), name="processes"),
    *[
        path(f"processes/{key}/start/", workflow.ProcessStartApi.as_view(process_key=key), name=f"process-start-{key}")
        for key in start_form_keys()
    ],
    path("processes/<str:key>/start/", workflow.AnyProcessStartApi.as_view(), name="process-start"),
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
    path("", include("backend.api.cases")),
    path("", include("backend.api.monitor")),
    path("", include("backend.api.signing")),
]


def unknown_path(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Any other path under /api/ (an id the route does not take, a mistyped name): a 404 in the API's shape."""
    return JsonResponse({"detail": str(NotFound.default_detail), "code": "not_found", "fields": {}}, status=404)


urlpatterns += [re_path(r"^(?P<rest>.*)$", unknown_path, name="unknown")]
