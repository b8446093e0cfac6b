"""Permission levels on registered models, lowest to highest (the Databricks levels).

Each level is a Django permission on registry.RegisteredModel: granted per model to users and
teams with django-guardian, or registry-wide ("root") as a global permission.
"""

from enum import IntEnum


class Level(IntEnum):
    NONE = 0
    CAN_READ = 1
    CAN_EDIT = 2
    CAN_MANAGE_STAGING_VERSIONS = 3
    CAN_MANAGE_PRODUCTION_VERSIONS = 4
    CAN_MANAGE = 5

    @property
    def codename(self):
        return self.name.lower()

    @classmethod
    def parse(cls, name):
        try:
            level = cls[str(name).upper()]
        except KeyError:
            return None
        return None if level is cls.NONE else level


GRANTABLE = [level for level in Level if level is not Level.NONE]

# Registry-wide only: may create registered models (Databricks' root default).
CREATE_MODELS = "CAN_CREATE_REGISTERED_MODEL"
CREATE_MODELS_CODENAME = "can_create_registered_model"

DESCRIPTIONS = {
    "CAN_READ": "Can view the details of the registered model and its model versions, and use "
    "the model versions.",
    "CAN_EDIT": "Can view and edit the details of a registered model and its model versions "
    "(except stage changes), and add new model versions.",
    "CAN_MANAGE_STAGING_VERSIONS": "Can view and edit the details of a registered model and its "
    "model versions, and manage stage transitions between non-Production stages.",
    "CAN_MANAGE_PRODUCTION_VERSIONS": "Can view and edit the details of a registered model and its "
    "model versions, and manage stage transitions between any stages.",
    "CAN_MANAGE": "Can manage permissions on, view all details of, and perform all actions on the "
    "registered model and its model versions.",
    CREATE_MODELS: "Can create registered models.",
}

# (codename, description) for RegisteredModel.Meta.permissions.
PERMISSIONS = [(level.codename, level.name) for level in GRANTABLE] + [
    (CREATE_MODELS_CODENAME, CREATE_MODELS)
]
