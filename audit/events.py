"""The event vocabulary: every activity row names one of these, and webhooks subscribe to them.

Names are `entity.action`, lower case, as in MLflow 3 webhooks where MLflow has the event.
"""

MODEL_CREATED = "registered_model.created"
MODEL_UPDATED = "registered_model.updated"
MODEL_RENAMED = "registered_model.renamed"
MODEL_DELETED = "registered_model.deleted"
MODEL_TAG_SET = "registered_model_tag.set"
MODEL_TAG_DELETED = "registered_model_tag.deleted"

VERSION_CREATED = "model_version.created"
VERSION_UPDATED = "model_version.updated"
VERSION_DELETED = "model_version.deleted"
VERSION_STAGE_TRANSITIONED = "model_version.stage_transitioned"
VERSION_TAG_SET = "model_version_tag.set"
VERSION_TAG_DELETED = "model_version_tag.deleted"
# Lineage: the system found (or could not find) the run a version was built by.
VERSION_LINEAGE_RESOLVED = "model_version.lineage_resolved"
VERSION_LINEAGE_UNAVAILABLE = "model_version.lineage_unavailable"

# MLflow fires model_version_alias.created for a move too; Modelgate tells them apart.
ALIAS_CREATED = "model_version_alias.created"
ALIAS_MOVED = "model_version_alias.moved"
ALIAS_DELETED = "model_version_alias.deleted"

MODEL_PERMISSIONS_CHANGED = "registered_model_permissions.changed"
REGISTRY_PERMISSIONS_CHANGED = "registry_permissions.changed"
# The lifecycle: a registry admin adds or removes a custom stage.
STAGE_CREATED = "stage.created"
STAGE_DELETED = "stage.deleted"

# The activity log itself: a signed checkpoint of its head (audit/actions.py).
ACTIVITY_CHECKPOINTED = "activity.checkpointed"

# Accounts: API tokens.
TOKEN_CREATED = "api_token.created"
TOKEN_REVOKED = "api_token.revoked"
# Accounts: people and teams, whose flags and memberships decide who may approve (never a
# password, only whether there is one), and sign-in lockouts after failed passwords.
USER_CREATED = "user.created"
USER_UPDATED = "user.updated"
USER_PASSWORD_CHANGED = "user.password_changed"
USER_DELETED = "user.deleted"
TEAM_CREATED = "team.created"
TEAM_UPDATED = "team.updated"
TEAM_DELETED = "team.deleted"
SIGN_IN_LOCKED_OUT = "sign_in.locked_out"

# Governance (the workflows app). A request targets a stage or an alias.
TRANSITION_REQUEST_CREATED = "transition_request.created"
TRANSITION_REQUEST_REVIEWED = "transition_request.reviewed"  # an approval short of quorum
TRANSITION_REQUEST_APPROVED = "transition_request.approved"  # the approval that applied it
TRANSITION_REQUEST_REJECTED = "transition_request.rejected"
TRANSITION_REQUEST_CANCELLED = "transition_request.cancelled"
TRANSITION_REQUEST_CLOSED = "transition_request.closed"  # by the system: its version moved
COMMENT_CREATED = "comment.created"
COMMENT_UPDATED = "comment.updated"
COMMENT_DELETED = "comment.deleted"
CHECK_REPORTED = "check.reported"
STAGE_POLICY_CHANGED = "stage_policy.changed"
ALIAS_POLICY_CHANGED = "alias_policy.changed"

# Notifications (the notifications app): a person's email choices, and following or muting a model.
NOTIFICATION_SETTINGS_CHANGED = "notification_settings.changed"
MODEL_SUBSCRIPTION_CHANGED = "registered_model_subscription.changed"

# Webhooks (the webhooks app).
WEBHOOK_CREATED = "webhook.created"
WEBHOOK_UPDATED = "webhook.updated"
WEBHOOK_DELETED = "webhook.deleted"
WEBHOOK_TESTED = "webhook.tested"
WEBHOOK_DISABLED = "webhook.disabled"  # by the system, after failures or a 410
DELIVERIES_REDELIVERED = "webhook.redelivered"

ALL = frozenset(
    value for name, value in dict(globals()).items() if name.isupper() and isinstance(value, str)
)
