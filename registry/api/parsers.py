import json

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

from registry.validators import unstorable_reason

# Real clients nest three levels (webhook specs, ACL entries, tags); deeper is an attack on
# every recursive walk that follows (serializers, rendering, the activity log's JSON).
MAX_BODY_DEPTH = 32


def _check_values(value, field, depth=1):
    """Refuse a body nested too deep, or holding a string PostgreSQL cannot store, wherever
    it is: every field of every endpoint gets the same check before any query runs."""
    if depth > MAX_BODY_DEPTH:
        raise ParseError(f"The request body is nested more than {MAX_BODY_DEPTH} levels deep.")
    if isinstance(value, str):
        reason = unstorable_reason(value)
        if reason:
            raise ParseError(f"Invalid value for parameter '{field}': {reason}.")
    elif isinstance(value, dict):
        for key, item in value.items():
            reason = unstorable_reason(key)
            if reason:
                raise ParseError(f"Invalid parameter name {key!r}: {reason}.")
            _check_values(item, field or key, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_values(item, field, depth + 1)


class LenientJSONParser(BaseParser):
    """Reads every request body as JSON, whatever its Content-Type: curl's -d sends
    form-urlencoded, some clients send none, and MLflow puts JSON bodies on DELETE.

    The body may be at most DATA_UPLOAD_MAX_MEMORY_SIZE bytes (MODELGATE_MAX_REQUEST_BYTES),
    the cap Django applies to the bodies it reads itself."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if stream is None:
            raw = b""
        else:
            raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise ParseError(
                f"The request body is larger than {limit} bytes (MODELGATE_MAX_REQUEST_BYTES)."
            )
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw)
        except RecursionError:
            raise ParseError(
                f"The request body is nested more than {MAX_BODY_DEPTH} levels deep."
            ) from None
        except (ValueError, UnicodeDecodeError):
            raise ParseError("Malformed JSON request body.") from None
        if not isinstance(data, dict):
            raise ParseError("The request body must be a JSON object.")
        _check_values(data, field="")
        return data
