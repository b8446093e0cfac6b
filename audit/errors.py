"""Domain errors, each with MLflow's error code. One exception handler maps them to HTTP."""

# MLflow's ERROR_CODE_TO_HTTP_STATUS (mlflow/exceptions.py); unmapped codes are 500.
HTTP_STATUS_BY_CODE = {
    "INVALID_PARAMETER_VALUE": 400,
    "BAD_REQUEST": 400,
    "RESOURCE_ALREADY_EXISTS": 400,
    "UNAUTHENTICATED": 401,
    "CUSTOMER_UNAUTHORIZED": 401,
    "PERMISSION_DENIED": 403,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "NOT_FOUND": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "ALREADY_EXISTS": 409,
    "RESOURCE_CONFLICT": 409,
    "ABORTED": 409,
    "REQUEST_LIMIT_EXCEEDED": 429,
    "RESOURCE_EXHAUSTED": 429,
    "INTERNAL_ERROR": 500,
    "NOT_IMPLEMENTED": 501,
    "TEMPORARILY_UNAVAILABLE": 503,
}


class RegistryError(Exception):
    error_code = "INTERNAL_ERROR"

    def __init__(self, message):
        super().__init__(message)
        self.message = message

    @property
    def http_status(self):
        return HTTP_STATUS_BY_CODE.get(self.error_code, 500)

    def as_json(self):
        return {"error_code": self.error_code, "message": self.message}


class InvalidParameterValue(RegistryError):
    error_code = "INVALID_PARAMETER_VALUE"


class ResourceAlreadyExists(RegistryError):
    error_code = "RESOURCE_ALREADY_EXISTS"


class ResourceDoesNotExist(RegistryError):
    error_code = "RESOURCE_DOES_NOT_EXIST"


class PermissionDenied(RegistryError):
    error_code = "PERMISSION_DENIED"


class Unauthenticated(RegistryError):
    error_code = "UNAUTHENTICATED"


class ResourceConflict(RegistryError):
    """The state changed under the caller (e.g. a request already decided)."""

    error_code = "RESOURCE_CONFLICT"


def model_not_found(name):
    return ResourceDoesNotExist(f"Registered Model with name={name} not found")


def version_not_found(name, version):
    return ResourceDoesNotExist(f"Model Version (name={name}, version={version}) not found")
