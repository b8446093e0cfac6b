from django.urls import path

from . import api

registry_webhook_routes = [
    path("registry-webhooks/create", api.create_registry_webhook),
    path("registry-webhooks/list", api.list_registry_webhooks),
    path("registry-webhooks/update", api.update_registry_webhook),
    path("registry-webhooks/delete", api.delete_registry_webhook),
    path("registry-webhooks/test", api.test_registry_webhook),
]

mlflow_routes = registry_webhook_routes + [
    path("webhooks", api.mlflow_webhooks),
    path("webhooks/<str:webhook_id>", api.mlflow_webhook),
    path("webhooks/<str:webhook_id>/test", api.test_mlflow_webhook),
]

modelgate_routes = [
    path("webhooks/create", api.create_modelgate_webhook),
    path("webhooks/list", api.list_modelgate_webhooks),
    path("deliveries/list", api.list_deliveries),
    path("deliveries/get", api.get_delivery),
    path("deliveries/redeliver", api.redeliver),
]
