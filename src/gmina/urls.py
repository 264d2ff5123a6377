from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from gmina.consortium.views import LoginView


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness probe for the process supervisor; says nothing about any member."""
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("gmina.consortium.api.urls")),
    path("api/v1/", include("gmina.water.api.urls")),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("healthz", healthz, name="healthz"),
    path("water/", include("gmina.water.urls")),
    path("", include("gmina.consortium.urls")),
]
