"""Input rules of the MLflow registry (mirroring mlflow/utils/validation.py where it has one)."""

import re
from urllib.parse import urlparse

from django.conf import settings

from audit.errors import InvalidParameterValue

from .models import ARCHIVING_STAGES, STAGES

MAX_NAME_LENGTH = 256
MAX_TAG_KEY_LENGTH = 250
MAX_TAG_VALUE_LENGTH = 100_000
MAX_ALIAS_LENGTH = 255
MAX_SOURCE_LENGTH = 4096
# The width of ModelVersion.run_id and .logged_model_id: longer ids must be a 400, not a 500.
MAX_RUN_ID_LENGTH = 64

_ALIAS_RE = re.compile(r"^[\w\-]+$")
_RESERVED_ALIAS_RE = re.compile(r"^(latest|v\d+)$", re.IGNORECASE)
_TAG_KEY_RE = re.compile(r"^[\w./\- :]+$")
# The prompt registry registers versions with these placeholder sources.
PROMPT_SOURCES = frozenset({"dummy-source", "prompt-template"})
LOCAL_SCHEMES = frozenset({"", "file"})


def model_name(name):
    if not name:
        raise InvalidParameterValue("Registered model name cannot be empty.")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidParameterValue(
            f"Registered model name must be at most {MAX_NAME_LENGTH} characters."
        )
    if "/" in name or ":" in name:
        raise InvalidParameterValue(
            f"Invalid model name: '{name}'. Names cannot contain the characters '/' or ':'."
        )
    return name


def alias_name(alias):
    if not alias:
        raise InvalidParameterValue("Alias name cannot be empty.")
    if len(alias) > MAX_ALIAS_LENGTH or not _ALIAS_RE.match(alias):
        raise InvalidParameterValue(
            f"Invalid alias name: '{alias}'. Aliases may only contain alphanumerics, "
            f"underscores and dashes, and be at most {MAX_ALIAS_LENGTH} characters."
        )
    if _RESERVED_ALIAS_RE.match(alias):
        raise InvalidParameterValue(
            f"Invalid alias name: '{alias}'. 'latest' and names of the form 'v<number>' are "
            "reserved."
        )
    return alias


def tag_key(key):
    if not key:
        raise InvalidParameterValue("Tag key cannot be empty.")
    if len(key) > MAX_TAG_KEY_LENGTH:
        raise InvalidParameterValue(f"Tag key must be at most {MAX_TAG_KEY_LENGTH} characters.")
    if not _TAG_KEY_RE.match(key) or ".." in key.split("/"):
        raise InvalidParameterValue(
            f"Invalid tag key: '{key}'. Keys may contain alphanumerics, underscores, periods, "
            "dashes, spaces, colons and slashes."
        )
    return key


def tag_value(value):
    value = "" if value is None else str(value)
    if len(value) > MAX_TAG_VALUE_LENGTH:
        raise InvalidParameterValue(
            f"Tag value must be at most {MAX_TAG_VALUE_LENGTH} characters."
        )
    return value


def tags(pairs):
    """[{key, value}] -> {key: value}, validated; a key given twice keeps its last value."""
    result = {}
    for pair in pairs or []:
        if not isinstance(pair, dict) or "key" not in pair:
            raise InvalidParameterValue("Each tag must be an object with 'key' and 'value'.")
        result[tag_key(pair["key"])] = tag_value(pair.get("value"))
    return result


def stage(value):
    for canonical in STAGES:
        if str(value).lower() == canonical.lower():
            return canonical
    raise InvalidParameterValue(
        f"Invalid Model Version stage: {value}. Value must be one of "
        f"{', '.join(STAGES)}."
    )


def archive_flag(target_stage, archive_existing_versions):
    if archive_existing_versions and target_stage not in ARCHIVING_STAGES:
        raise InvalidParameterValue(
            f"Model version transition cannot archive existing model versions because "
            f"'{target_stage}' is not an Active stage. Valid stages are "
            f"{', '.join(ARCHIVING_STAGES)}."
        )
    return bool(archive_existing_versions)


def version_number(value):
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        raise InvalidParameterValue(
            f"Parameter 'version' must be an integer, got '{value}'."
        ) from None
    if number < 1:
        raise InvalidParameterValue(f"Parameter 'version' must be positive, got '{value}'.")
    return number


def registry_reference(value):
    """(name, version-or-stage-or-latest, alias) for `models:/<name>/<ref>` or
    `models:/<name>@<alias>` sources, which name a registered version rather than a logged
    model (`models:/m-...`); None for any other source."""
    parsed = urlparse(value)
    if parsed.scheme.lower() != "models":
        return None
    path = (parsed.netloc + parsed.path).strip("/")
    if not path or path.startswith("m-"):
        return None
    if "@" in path and "/" not in path:
        name, alias = path.rsplit("@", 1)
        return name, "", alias
    if "/" in path:
        name, ref = path.rsplit("/", 1)
        return name, ref, ""
    return None


def source(value, *, run_id="", model_id=""):
    """Accept what the client sends (s3, gs, runs:/, models:/m-..., mlflow-artifacts:/, http(s),
    ...), stored verbatim. Local paths are refused unless MODELGATE_ALLOW_LOCAL_SOURCES is set.

    Returns (source, run_id, model_id) with run_id/model_id filled in from the URI when absent.
    """
    if not value:
        raise InvalidParameterValue("Missing value for required parameter 'source'.")
    if len(value) > MAX_SOURCE_LENGTH:
        raise InvalidParameterValue(f"Source must be at most {MAX_SOURCE_LENGTH} characters.")
    if value in PROMPT_SOURCES:
        return value, run_id, model_id
    parsed = urlparse(value)
    scheme = parsed.scheme.lower()
    # A one-letter "scheme" is a Windows drive (C:\models).
    is_local = scheme in LOCAL_SCHEMES or len(scheme) == 1
    if ".." in parsed.path.replace("\\", "/").split("/"):
        raise InvalidParameterValue(f"Invalid model version source: '{value}'. '..' is not allowed.")
    if is_local and not settings.MODELGATE_ALLOW_LOCAL_SOURCES:
        raise InvalidParameterValue(
            f"Invalid model version source: '{value}'. Local filesystem paths are not accepted "
            "by this registry; use a shared store (s3://, gs://, mlflow-artifacts:/, runs:/, "
            "models:/ ...). An administrator can allow them with MODELGATE_ALLOW_LOCAL_SOURCES."
        )
    if scheme == "runs":
        uri_run_id = parsed.netloc or parsed.path.lstrip("/").split("/", 1)[0]
        if run_id and uri_run_id and run_id != uri_run_id:
            raise InvalidParameterValue(
                f"Invalid model version source: '{value}' points at run '{uri_run_id}' but "
                f"run_id is '{run_id}'."
            )
        run_id = run_id or uri_run_id
    if scheme == "models":
        ref = (parsed.netloc or parsed.path.lstrip("/")).split("/", 1)[0]
        if ref.startswith("m-"):
            if model_id and model_id != ref:
                raise InvalidParameterValue(
                    f"Invalid model version source: '{value}' names logged model '{ref}' but "
                    f"model_id is '{model_id}'."
                )
            model_id = model_id or ref
    # Checked last: both may have been taken from the URI.
    for field, given in (("run_id", run_id), ("model_id", model_id)):
        if len(given) > MAX_RUN_ID_LENGTH:
            raise InvalidParameterValue(
                f"Invalid value for parameter '{field}': it must be at most {MAX_RUN_ID_LENGTH} "
                "characters."
            )
    return value, run_id, model_id
