"""Governance endpoints: the Databricks workspace-registry API (transition requests, comments,
transition-stage) under /api/2.0/mlflow/, and Modelgate's own (alias requests, checks,
policies, activity) under /api/2.0/modelgate/."""

import json
from datetime import datetime
from datetime import timezone as dt_timezone

from django.contrib.auth.models import Group
from django.db import transaction
from django.http import StreamingHttpResponse
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from audit.ctx import Ctx
from audit.errors import InvalidParameterValue, ResourceConflict
from audit.timestamps import to_millis
from registry import actions as registry_actions
from registry import selectors as registry_selectors
from registry import validators
from registry.api import requests as msg
from registry.api.render import version_json

from . import actions, render, selectors

DATABRICKS = ["Databricks registry"]
MODELGATE = ["Modelgate governance"]


def _str(**kw):
    return serializers.CharField(trim_whitespace=False, **kw)


def _opt(**kw):
    return serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False, **kw)


class StageTarget(serializers.Serializer):
    name = _str()
    version = _str()
    stage = _str()
    comment = _opt()


class ApproveStage(StageTarget):
    archive_existing_versions = serializers.BooleanField(required=False, default=False)


class CancelStage(StageTarget):
    creator = _str()


class AliasTarget(serializers.Serializer):
    name = _str()
    version = _str()
    alias = _str()
    comment = _opt()


class CancelAlias(AliasTarget):
    creator = _str()


class RequestList(serializers.Serializer):
    name = _str()
    version = _opt()


def _outcome_response(viewer, outcome):
    body = {"activity": render.activity_json(outcome.activity)}
    body["activity"]["request_status"] = outcome.request.status
    if outcome.closed:
        # The request was closed (its version moved or was deleted); that is committed, and
        # the approval did not happen: say so as a conflict.
        body.update(error_code=ResourceConflict.error_code, message=outcome.request.system_comment)
        return Response(body, status=409)
    return Response(body)


# Transition requests (Databricks) and alias requests (Modelgate) ---------------------------

def _endpoint(name, message, tags, method, respond):
    """A view that parses `message` and answers with respond(request, data). DRF names the view
    after its function (OPTIONS shows it), so it takes the endpoint's own name."""

    def view(request):
        return respond(request, msg.parse(request, message))

    view.__name__ = view.__qualname__ = name
    return msg.doc(message, tags, method=method)(api_view([method])(view))


def _write(action, respond):
    """respond() for a write on a request. Each request message's fields are its action's
    keyword arguments: which target (`stage` or `alias`) is named is the message's to say."""

    @transaction.atomic
    def write(request, data):
        return respond(request.user, action(Ctx.from_request(request), **data))

    return write


def _request_response(viewer, req):
    return Response({"request": render.request_json(viewer, req)})


def request_endpoints(*, noun, kind, tags, target, approve, cancel):
    """create, approve, reject, delete and list for one kind of request. Stage and alias
    requests are the same objects under the same actions; a kind differs only in its request
    messages (`target` for create and reject, `approve`, `cancel` for delete), which name the
    target `stage` or `alias`, its API tags, its views' names and the requests it lists."""

    def list_open(request, data):
        reqs = selectors.open_requests(request.user, name=data["name"], version=data["version"], kind=kind)
        return Response({"requests": [render.request_json(request.user, r) for r in reqs]})

    return {
        "create": _endpoint(f"create_{noun}", target, tags, "POST",
                            _write(actions.transition_request_create, _request_response)),
        "approve": _endpoint(f"approve_{noun}", approve, tags, "POST",
                             _write(actions.transition_approve, _outcome_response)),
        "reject": _endpoint(f"reject_{noun}", target, tags, "POST",
                            _write(actions.transition_reject, _outcome_response)),
        "delete": _endpoint(f"delete_{noun}", cancel, tags, "DELETE",
                            _write(actions.transition_request_cancel, _outcome_response)),
        "list": _endpoint(f"list_{noun}s", RequestList, tags, "GET", list_open),
    }


# Stage requests are Databricks' transition requests; alias requests are Modelgate's own.
stage_requests = request_endpoints(noun="transition_request", kind="stage", tags=DATABRICKS,
                                   target=StageTarget, approve=ApproveStage, cancel=CancelStage)
alias_requests = request_endpoints(noun="alias_request", kind="alias", tags=MODELGATE,
                                   target=AliasTarget, approve=AliasTarget, cancel=CancelAlias)


# Databricks transition-stage ------------------------------------------------------------------

@msg.doc(msg.TransitionStage, DATABRICKS)
@api_view(["POST"])
@transaction.atomic
def transition_stage_databricks(request):
    data = msg.parse(request, msg.TransitionStage)
    registry_actions.version_transition(
        Ctx.from_request(request), name=data["name"], version=data["version"], stage=data["stage"],
        archive_existing_versions=data["archive_existing_versions"], comment=data["comment"],
    )
    mv = registry_selectors.version_get(request.user, data["name"], data["version"])
    # SDK >= 0.58 reads model_version_databricks, older ones model_version: serve both.
    return Response({
        "model_version_databricks": render.version_databricks_json(request.user, mv),
        "model_version": version_json(mv),
    })


# Comments ---------------------------------------------------------------------------------------

class CommentCreate(serializers.Serializer):
    name = _str()
    version = _str()
    comment = _str()


class CommentUpdate(serializers.Serializer):
    id = _str()
    comment = _str()


class CommentRef(serializers.Serializer):
    id = _str()


@msg.doc(CommentCreate, DATABRICKS)
@api_view(["POST"])
@transaction.atomic
def create_comment(request):
    data = msg.parse(request, CommentCreate)
    row = actions.comment_create(
        Ctx.from_request(request), name=data["name"], version=data["version"], comment=data["comment"]
    )
    return Response({"comment": render.comment_json(request.user, row)})


@msg.doc(CommentUpdate, DATABRICKS, method="PATCH")
@api_view(["PATCH"])
@transaction.atomic
def update_comment(request):
    data = msg.parse(request, CommentUpdate)
    row = actions.comment_update(Ctx.from_request(request), comment_id=data["id"], comment=data["comment"])
    return Response({"comment": render.comment_json(request.user, row)})


@msg.doc(CommentRef, DATABRICKS, method="DELETE")
@api_view(["DELETE"])
@transaction.atomic
def delete_comment(request):
    data = msg.parse(request, CommentRef)
    actions.comment_delete(Ctx.from_request(request), comment_id=data["id"])
    return Response({})


# Modelgate: checks ------------------------------------------------------------------------------

class CheckReport(serializers.Serializer):
    name = _str()
    version = _str()
    check = _str(max_length=200)
    status = serializers.ChoiceField(choices=["pending", "success", "failure"])
    details_url = _opt(max_length=2000)
    summary = _opt()


class VersionRef(serializers.Serializer):
    name = _str()
    version = _str()


def check_json(check):
    return {
        "check": check.name,
        "status": check.status,
        "details_url": check.details_url,
        "summary": check.summary,
        "reported_by": check.reported_by.username if check.reported_by_id else None,
        "timestamp": to_millis(check.created_at),
    }


@msg.doc(CheckReport, MODELGATE)
@api_view(["POST"])
@transaction.atomic
def report_check(request):
    data = msg.parse(request, CheckReport)
    row = actions.check_report(
        Ctx.from_request(request), name=data["name"], version=data["version"], check=data["check"],
        status=data["status"], details_url=data["details_url"], summary=data["summary"],
    )
    return Response({"check": check_json(row)})


@msg.doc(VersionRef, MODELGATE, method="GET")
@api_view(["GET"])
def list_checks(request):
    data = msg.parse(request, VersionRef)
    _, checks = selectors.latest_checks(request.user, name=data["name"], version=data["version"])
    return Response({"checks": [check_json(c) for c in checks]})


# Modelgate: policies ----------------------------------------------------------------------------

class StagePolicyIn(serializers.Serializer):
    name = _opt()
    stage = _str()
    required_approvals = serializers.IntegerField(required=False, min_value=1, max_value=20)
    approver_team = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    separation_of_duties = serializers.BooleanField(required=False)
    require_request = serializers.BooleanField(required=False)
    required_checks = serializers.ListField(child=serializers.CharField(max_length=200), required=False)
    archive_existing_on_approval = serializers.BooleanField(required=False)
    move_alias_on_approval = serializers.CharField(required=False, allow_blank=True, max_length=255)


class AliasPolicyIn(serializers.Serializer):
    name = _opt()
    pattern = _str(max_length=255)
    required_level = serializers.CharField(required=False)
    required_approvals = serializers.IntegerField(required=False, min_value=1, max_value=20)
    approver_team = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    separation_of_duties = serializers.BooleanField(required=False)
    required_checks = serializers.ListField(child=serializers.CharField(max_length=200), required=False)


class StagePolicyRef(serializers.Serializer):
    name = _opt()
    stage = _str()


class AliasPolicyRef(serializers.Serializer):
    name = _opt()
    pattern = _str()


class PolicyList(serializers.Serializer):
    name = _opt()


def _policy_fields(data, skip):
    fields = {k: v for k, v in data.items() if k not in skip}
    if "approver_team" in fields:
        team = fields["approver_team"]
        fields["approver_team"] = None
        if team:
            fields["approver_team"] = Group.objects.filter(name=team).first()
            if fields["approver_team"] is None:
                raise InvalidParameterValue(f"Team '{team}' does not exist.")
    return fields


@msg.doc(StagePolicyIn, MODELGATE)
@api_view(["POST"])
@transaction.atomic
def set_stage_policy(request):
    data = msg.parse(request, StagePolicyIn)
    if data.get("move_alias_on_approval"):
        validators.alias_name(data["move_alias_on_approval"])
    policy = actions.stage_policy_set(
        Ctx.from_request(request), name=data["name"], stage=data["stage"],
        **_policy_fields(data, {"name", "stage"}),
    )
    return Response({"stage_policy": render.stage_policy_json(policy)})


@msg.doc(StagePolicyRef, MODELGATE, method="DELETE")
@api_view(["DELETE"])
@transaction.atomic
def delete_stage_policy(request):
    data = msg.parse(request, StagePolicyRef)
    actions.stage_policy_delete(Ctx.from_request(request), name=data["name"], stage=data["stage"])
    return Response({})


@msg.doc(AliasPolicyIn, MODELGATE)
@api_view(["POST"])
@transaction.atomic
def set_alias_policy(request):
    data = msg.parse(request, AliasPolicyIn)
    policy = actions.alias_policy_set(
        Ctx.from_request(request), name=data["name"], pattern=data["pattern"],
        **_policy_fields(data, {"name", "pattern"}),
    )
    return Response({"alias_policy": render.alias_policy_json(policy)})


@msg.doc(AliasPolicyRef, MODELGATE, method="DELETE")
@api_view(["DELETE"])
@transaction.atomic
def delete_alias_policy(request):
    data = msg.parse(request, AliasPolicyRef)
    actions.alias_policy_delete(Ctx.from_request(request), name=data["name"], pattern=data["pattern"])
    return Response({})


@msg.doc(PolicyList, MODELGATE, method="GET")
@api_view(["GET"])
def list_policies(request):
    data = msg.parse(request, PolicyList)
    stage_policies, alias_policies = selectors.policies(request.user, name=data["name"])
    return Response({
        "stage_policies": [render.stage_policy_json(p) for p in stage_policies],
        "alias_policies": [render.alias_policy_json(p) for p in alias_policies],
    })


# Modelgate: activity ----------------------------------------------------------------------------

@msg.doc(VersionRef, MODELGATE, method="GET")
@api_view(["GET"])
def version_activity(request):
    data = msg.parse(request, VersionRef)
    mv, own, archived_by_others = selectors.version_activity(
        request.user, name=data["name"], version=data["version"]
    )
    feed = [render.activity_json(row) for row in own]
    feed += [render.archived_activity_json(row, mv.version) for row in archived_by_others]
    feed.sort(key=lambda a: (a["creation_timestamp"], a["id"]))
    return Response({"activities": feed})


class ExportRequest(serializers.Serializer):
    name = _opt()
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)


@msg.doc(ExportRequest, MODELGATE, method="GET")
@api_view(["GET"])
def export_activity(request):
    """JSON Lines, one activity-log row per line with its hashes, oldest first, streamed."""
    data = msg.parse(request, ExportRequest)
    exported = selectors.activity_export(
        request.user, name=data["name"], since=data.get("since"), until=data.get("until")
    )

    def lines():
        for line in exported:
            yield json.dumps(line, sort_keys=True, ensure_ascii=False) + "\n"

    response = StreamingHttpResponse(lines(), content_type="application/x-ndjson")
    stamp = datetime.now(dt_timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="modelgate-activity-{stamp}.jsonl"'
    return response
