from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.static import serve

from jiepai.api.main import api

urlpatterns = [
    path("", include("jiepai.core.urls")),
    path("leads/", include("jiepai.intake.urls")),
    path("f/", include("jiepai.intake.public_urls")),
    path("customers/", include("jiepai.customers.urls")),
    path("deals/", include("jiepai.pipeline.urls")),
    path("activities/", include("jiepai.activities.urls")),
    path("inbox/", include("jiepai.notify.urls")),
    path("routing/", include("jiepai.routing.urls")),
    path("imports/", include("jiepai.imports.urls")),
    path("dedup/", include("jiepai.dedup.urls")),
    path("api/v1/", api.urls),
    path("settings/api-tokens/", include("jiepai.api.urls")),
    path("login/", auth_views.LoginView.as_view(template_name="core/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

if not settings.PRODUCTION:
    # Uploaded files; in production the reverse proxy serves MEDIA_ROOT (see README).
    urlpatterns += [path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT})]
