"""What the registry tables hold, for tests that prove a call changed exactly what it should."""

from django.contrib.auth.models import Group
from guardian.models import GroupObjectPermission, UserObjectPermission

from accounts.models import User
from audit.models import Activity, ActivityHead
from registry.models import (
    ModelTombstone,
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelAlias,
    RegisteredModelTag,
    Stage,
)
from webhooks.models import Delivery

# Every table a registry action may write: the registry's own (deleted names included), the grants that model creation
# and permission changes write, and the webhook outbox that record() hands each activity to.
REGISTRY_TABLES = (
    RegisteredModel,
    ModelVersion,
    RegisteredModelTag,
    ModelVersionTag,
    RegisteredModelAlias,
    ModelTombstone,
    Stage,
    ModelTombstone.managers.through,
    ModelTombstone.manager_teams.through,
    Activity,
    ActivityHead,
    UserObjectPermission,
    GroupObjectPermission,
    User.user_permissions.through,
    Group.permissions.through,
    Delivery,
)


def snapshot():
    """Every row of every registry table, in primary-key order."""
    return {
        table._meta.db_table: list(table.objects.order_by("pk").values())
        for table in REGISTRY_TABLES
    }
