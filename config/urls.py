from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny

from accounts import api as token_api
from audit import api as audit_api
from registry.api import databricks
from registry.api import lineage as lineage_api
from registry.api import stages as stages_api
from registry.api import urls as registry_urls
from ui import urls as ui_urls
from ui import views as ui_views
from webhooks import urls as webhook_urls
from workflows import urls as workflow_urls

handler400 = "registry.api.errors.bad_request"
handler404 = "registry.api.errors.not_found"
handler500 = "registry.api.errors.server_error"

mlflow_routes = registry_urls.urlpatterns + [
    path("databricks/registered-models/get", databricks.get_registered_model_databricks),
    path("registered-models/list", databricks.list_registered_models),
    *workflow_urls.mlflow_routes,
    *webhook_urls.mlflow_routes,
]

modelgate_routes = [
    path("tokens/create", token_api.create_token),
    path("tokens/list", token_api.list_tokens),
    path("tokens/revoke", token_api.revoke_token),
    path("activity/checkpoints", audit_api.list_checkpoints),
    path("lineage/get", lineage_api.get_lineage),
    path("stages/create", stages_api.create_stage),
    path("stages/list", stages_api.list_stages),
    path("stages/delete", stages_api.delete_stage),
    *workflow_urls.modelgate_routes,
    *webhook_urls.modelgate_routes,
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/2.0/mlflow/", include(mlflow_routes)),
    path("ajax-api/2.0/mlflow/", include(mlflow_routes)),
    path("api/2.0/permissions/registered-models/<str:registered_model_id>", databricks.model_permissions),
    path(
        "api/2.0/permissions/registered-models/<str:registered_model_id>/permissionLevels",
        databricks.model_permission_levels,
    ),
    path("api/2.0/modelgate/", include(modelgate_routes)),
    path("api/2.0/preview/mlflow/", include(webhook_urls.registry_webhook_routes)),
    path(".well-known/databricks-config", databricks.well_known_config),
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="schema"),
    path(
        "api/docs/",
        ui_views.ApiDocsView.as_view(url_name="schema", permission_classes=[AllowAny]),
        name="api-docs",
    ),
    path(
        "api/docs/swagger/",
        SpectacularSwaggerView.as_view(url_name="schema", permission_classes=[AllowAny]),
        name="api-docs-swagger",
    ),
    path("", include("ops.urls")),
    path("", include(ui_urls)),
]
