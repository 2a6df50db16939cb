from django.contrib.auth import views as auth_views
from django.urls import include, path

from .views import home

app_name = "web"

urlpatterns = [
    path("", home.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="web/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # One module of pages per domain app; each defines its own urlpatterns (names stay in the "web" namespace).
    path("", include("backend.web.views.documents")),
    path("", include("backend.web.views.inbox")),
    path("", include("backend.web.views.signatures")),
    path("", include("backend.web.views.reopen")),
    path("", include("backend.web.views.transcripts")),
    path("", include("backend.web.views.access")),
    path("", include("backend.web.views.jobs")),
    path("", include("backend.web.views.cases")),
    path("", include("backend.web.views.monitor")),
    path("", include("backend.web.views.signing_key")),
    path("", include("backend.web.views.signing_batch")),
]
