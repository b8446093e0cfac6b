from django.urls import path

from . import api

mlflow_routes = [
    path("transition-requests/create", api.create_transition_request),
    path("transition-requests/approve", api.approve_transition_request),
    path("transition-requests/reject", api.reject_transition_request),
    path("transition-requests/list", api.list_transition_requests),
    path("transition-requests/delete", api.delete_transition_request),
    path("databricks/model-versions/transition-stage", api.transition_stage_databricks),
    path("comments/create", api.create_comment),
    path("comments/update", api.update_comment),
    path("comments/delete", api.delete_comment),
]

modelgate_routes = [
    path("alias-requests/create", api.create_alias_request),
    path("alias-requests/approve", api.approve_alias_request),
    path("alias-requests/reject", api.reject_alias_request),
    path("alias-requests/delete", api.delete_alias_request),
    path("alias-requests/list", api.list_alias_requests),
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
