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

# MLflow fires model_version_alias.created for a move too; Modelgate tells them apart.
ALIAS_CREATED = "model_version_alias.created"
ALIAS_MOVED = "model_version_alias.moved"
ALIAS_DELETED = "model_version_alias.deleted"

MODEL_PERMISSIONS_CHANGED = "registered_model_permissions.changed"
REGISTRY_PERMISSIONS_CHANGED = "registry_permissions.changed"

ALL = frozenset(
    value for name, value in dict(globals()).items() if name.isupper() and isinstance(value, str)
)
