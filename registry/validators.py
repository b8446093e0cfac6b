"""Input rules of the MLflow registry (mirroring mlflow/utils/validation.py where it has one)."""

import re
import unicodedata
from urllib.parse import unquote_plus, urlparse

from django.conf import settings

from accounts.levels import Level
from audit.errors import InvalidParameterValue

from . import stages as lifecycle
from .models import STAGE_NAME_LENGTH

# Field limits: MLflow's where it has one (mlflow/utils/validation.py, and its SQL store's
# columns for descriptions), otherwise chosen so no single field can bloat the permanent
# activity log or every webhook payload.
MAX_NAME_LENGTH = 256
MAX_TAG_KEY_LENGTH = 250
MAX_TAG_VALUE_LENGTH = 100_000  # MLflow's; prompt templates live in version tags
MAX_ALIAS_LENGTH = 255
MAX_DESCRIPTION_LENGTH = 5000  # MLflow's registered_models/model_versions.description
MAX_COMMENT_LENGTH = 5000
MAX_SOURCE_LENGTH = 4096
MAX_RUN_LINK_LENGTH = 2048
# The width of ModelVersion.run_id and .logged_model_id: longer ids must be a 400, not a 500.
MAX_RUN_ID_LENGTH = 64

# Matched with fullmatch: `$` alone would also accept a trailing newline.
_ALIAS_RE = re.compile(r"[\w\-]+")
_RESERVED_ALIAS_RE = re.compile(r"(latest|v\d+)", re.IGNORECASE)
_TAG_KEY_RE = re.compile(r"[\w./\- :]+")
# Characters that are invisible or reorder what is shown (controls, format characters such as
# bidi overrides and zero-width spaces, surrogates, private use, line and paragraph
# separators): a name holding one can look like another name.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
# The prompt registry registers versions with these placeholder sources.
PROMPT_SOURCES = frozenset({"dummy-source", "prompt-template"})
LOCAL_SCHEMES = frozenset({"", "file"})


def unstorable_reason(text):
    """Why PostgreSQL cannot store `text` (None when it can): a NUL, or a lone surrogate,
    which UTF-8 cannot encode. The API refuses both as bad input before any query runs."""
    if "\x00" in text:
        return "it contains a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "it contains a lone surrogate, which is not valid Unicode text"
    return None


def _plain(value, what):
    """Refuse surrounding whitespace and hidden characters in a name."""
    if value != value.strip():
        raise InvalidParameterValue(f"Invalid {what} {value!r}: it must not start or end with whitespace.")
    hidden = next((c for c in value if unicodedata.category(c) in _HIDDEN_CATEGORIES), None)
    if hidden is not None:
        raise InvalidParameterValue(
            f"Invalid {what} {value!r}: it contains the invisible or text-reordering character "
            f"U+{ord(hidden):04X} ({unicodedata.name(hidden, 'unnamed')})."
        )


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
    _plain(name, "registered model name")
    return name


def alias_name(alias):
    if not alias:
        raise InvalidParameterValue("Alias name cannot be empty.")
    if len(alias) > MAX_ALIAS_LENGTH or not _ALIAS_RE.fullmatch(alias):
        raise InvalidParameterValue(
            f"Invalid alias name: {alias!r}. Aliases may only contain alphanumerics, "
            f"underscores and dashes, and be at most {MAX_ALIAS_LENGTH} characters."
        )
    if _RESERVED_ALIAS_RE.fullmatch(alias):
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
    _plain(key, "tag key")
    if not _TAG_KEY_RE.fullmatch(key) or ".." in key.split("/"):
        raise InvalidParameterValue(
            f"Invalid tag key: '{key}'. Keys may contain alphanumerics, underscores, periods, "
            "dashes, spaces, colons and slashes."
        )
    return key


def _bounded_text(value, *, field, limit):
    value = "" if value is None else str(value)
    if len(value) > limit:
        raise InvalidParameterValue(
            f"Invalid value for parameter '{field}': it must be at most {limit} characters "
            f"(got {len(value)})."
        )
    return value


def tag_value(value):
    return _bounded_text(value, field="value", limit=MAX_TAG_VALUE_LENGTH)


def description(value):
    return _bounded_text(value, field="description", limit=MAX_DESCRIPTION_LENGTH)


def comment(value):
    """A comment on a stage move or a request, kept in the activity log forever."""
    return _bounded_text(value, field="comment", limit=MAX_COMMENT_LENGTH)


def run_link(value):
    return _bounded_text(value, field="run_link", limit=MAX_RUN_LINK_LENGTH)


# Latin look-alikes from Cyrillic and Greek, by case (an upper-case Greek Eta looks like H,
# its lower case like n), applied before casefolding.
_LATIN_LOOKALIKES = str.maketrans({
    # Cyrillic
    "А": "A", "а": "a", "В": "B", "Е": "E", "е": "e", "Ё": "E", "ё": "e", "К": "K", "к": "k",
    "М": "M", "Н": "H", "һ": "h", "О": "O", "о": "o", "Р": "P", "р": "p", "С": "C", "с": "c",
    "Т": "T", "У": "Y", "у": "y", "Х": "X", "х": "x", "Ѕ": "S", "ѕ": "s", "І": "I", "і": "i",
    "Ї": "I", "ї": "i", "Ј": "J", "ј": "j", "Ԁ": "D", "ԁ": "d", "Ԛ": "Q", "ԛ": "q", "Ԝ": "W",
    "ԝ": "w", "Ӏ": "I", "ӏ": "l", "ɡ": "g",
    # Greek
    "Α": "A", "α": "a", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "η": "n", "Ι": "I", "ι": "i",
    "Κ": "K", "κ": "k", "Μ": "M", "Ν": "N", "ν": "v", "Ο": "O", "ο": "o", "Ρ": "P", "ρ": "p",
    "Τ": "T", "τ": "t", "Υ": "Y", "υ": "u", "Χ": "X", "χ": "x", "Ϲ": "C", "ϲ": "c", "ϳ": "j",
    "ϒ": "Y",
    # Latin letters that pass for others
    "ı": "i", "ȷ": "j",
})


def alias_match_key(text):
    """The form in which an alias and an alias-policy pattern are compared, so a look-alike
    cannot dodge a policy: NFKC (fullwidth and other compatibility forms), Cyrillic and Greek
    look-alikes of Latin letters folded to them, then casefolded ('CH\u0410MPION' and
    'ch\u0430mpion' both become 'champion'). Aliases are stored as given; only matching
    uses this."""
    return unicodedata.normalize("NFKC", text).translate(_LATIN_LOOKALIKES).casefold()


def tags(pairs):
    """[{key, value}] -> {key: value}, validated; a key given twice keeps its last value."""
    result = {}
    for pair in pairs or []:
        if not isinstance(pair, dict) or "key" not in pair:
            raise InvalidParameterValue("Each tag must be an object with 'key' and 'value'.")
        result[tag_key(pair["key"])] = tag_value(pair.get("value"))
    return result


def stage(value):
    """A stage of the lifecycle, in its defined spelling, from any case of its name."""
    found = lifecycle.find(value)
    if found is None:
        raise InvalidParameterValue(
            f"Invalid Model Version stage: {value}. Value must be one of "
            f"{', '.join(lifecycle.names())}."
        )
    return found.name


def archive_flag(target_stage, archive_existing_versions):
    if archive_existing_versions and not lifecycle.is_active(target_stage):
        raise InvalidParameterValue(
            f"Model version transition cannot archive existing model versions because "
            f"'{target_stage}' is not an Active stage. Valid stages are "
            f"{', '.join(lifecycle.active_names())}."
        )
    return bool(archive_existing_versions)


# A new stage's name: a letter first (so it never reads as a version number), then letters,
# digits, spaces, '-' and '_'; not "latest", which `models:/<name>/latest` means.
_STAGE_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9 _\-]*")


def stage_name(value):
    name = value if isinstance(value, str) else ""
    if not (_STAGE_NAME_RE.fullmatch(name) and len(name) <= STAGE_NAME_LENGTH and name == name.strip()):
        raise InvalidParameterValue(
            f"Invalid stage name '{value}': use 1 to {STAGE_NAME_LENGTH} characters, a letter "
            f"first, then letters, digits, spaces, '-' or '_', with no space at either end."
        )
    if name.lower() == "latest":
        raise InvalidParameterValue("'latest' cannot be a stage name: models:/<name>/latest means the newest version.")
    return name


def stage_level(value):
    level = Level.parse(value) if isinstance(value, str) else None
    if level not in lifecycle.STAGE_LEVELS:
        raise InvalidParameterValue(
            f"Invalid required_level '{value}'. Value must be one of "
            f"{', '.join(level.name for level in lifecycle.STAGE_LEVELS)}."
        )
    return level


def stage_position(value):
    if value is None:
        return lifecycle.next_position()
    if isinstance(value, bool) or not isinstance(value, int) or not (
        lifecycle.FIRST_CUSTOM_POSITION <= value <= lifecycle.LAST_CUSTOM_POSITION
    ):
        raise InvalidParameterValue(
            f"Invalid position '{value}'. Custom stages sit between None (0) and Archived (300): "
            f"use an integer from {lifecycle.FIRST_CUSTOM_POSITION} to {lifecycle.LAST_CUSTOM_POSITION}."
        )
    return value


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


def _percent_decoded(value):
    """`value` percent-decoded until it stops changing, as MLflow's server checks a source:
    a store decodes what it is given, so `..%2f` and `%252e%252e` climb out just as `../` does."""
    for _ in range(10):
        decoded = unquote_plus(value)
        if decoded == value:
            return value
        value = decoded
    raise InvalidParameterValue(
        f"Invalid model version source: '{value}'. It is percent-encoded too many times."
    )


def source(value, *, run_id="", model_id=""):
    """Accept what the client sends (s3, gs, runs:/, models:/m-..., mlflow-artifacts:/, http(s),
    ...), stored verbatim. Local paths are refused unless MODELGATE_ALLOW_LOCAL_SOURCES is set,
    and so is any source that, once percent-decoded, holds a '..' segment or a NUL (as MLflow).

    Returns (source, run_id, model_id) with run_id/model_id filled in from the URI when absent.
    """
    if not value:
        raise InvalidParameterValue("Missing value for required parameter 'source'.")
    if len(value) > MAX_SOURCE_LENGTH:
        raise InvalidParameterValue(f"Source must be at most {MAX_SOURCE_LENGTH} characters.")
    if value in PROMPT_SOURCES:
        return value, run_id, model_id
    decoded = _percent_decoded(value)
    if "\x00" in decoded:
        raise InvalidParameterValue(
            f"Invalid model version source: '{value}'. It decodes to a NUL character."
        )
    if ".." in decoded.replace("\\", "/").split("/"):
        raise InvalidParameterValue(  # MLflow's words, which clients match
            f"Invalid model version source: '{value}'. If supplying a source as an http, https, local file "
            "path, ftp, objectstore, or mlflow-artifacts uri, an absolute path must be provided without "
            "relative path references present. Please provide an absolute path."
        )
    parsed = urlparse(value)
    scheme = parsed.scheme.lower()
    # A one-letter "scheme" is a Windows drive (C:\models).
    is_local = scheme in LOCAL_SCHEMES or len(scheme) == 1
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
