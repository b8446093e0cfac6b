from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView
from rest_framework.permissions import AllowAny

from registry.api import urls as registry_urls

handler404 = "registry.api.errors.not_found"
handler500 = "registry.api.errors.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/2.0/mlflow/", include(registry_urls.urlpatterns)),
    path("ajax-api/2.0/mlflow/", include(registry_urls.urlpatterns)),
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="schema"),
    path("api/docs/", SpectacularRedocView.as_view(url_name="schema", permission_classes=[AllowAny]), name="api-docs"),
]
