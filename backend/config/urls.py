from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("Qujat administration")
admin.site.site_title = "Qujat"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("backend.api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("backend.web.urls")),
]

handler400 = "backend.web.errors.bad_request"
handler403 = "backend.web.errors.forbidden"
handler404 = "backend.web.errors.not_found"
handler500 = "backend.web.errors.server_error"
