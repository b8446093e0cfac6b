from django.urls import path

from . import api


def _request_routes(prefix, endpoints):
    return [path(f"{prefix}/{verb}", view) for verb, view in endpoints.items()]


mlflow_routes = [
    *_request_routes("transition-requests", api.stage_requests),
    path("databricks/model-versions/transition-stage", api.transition_stage_databricks),
    path("comments/create", api.create_comment),
    path("comments/update", api.update_comment),
    path("comments/delete", api.delete_comment),
]

modelgate_routes = [
    *_request_routes("alias-requests", api.alias_requests),
    path("checks/report", api.report_check),
    path("checks/list", api.list_checks),
    path("policies/list", api.list_policies),
    path("policies/stage/set", api.set_stage_policy),
    path("policies/stage/delete", api.delete_stage_policy),
    path("policies/alias/set", api.set_alias_policy),
    path("policies/alias/delete", api.delete_alias_policy),
    path("activity/list", api.version_activity),
    path("activity/export", api.export_activity),
]
