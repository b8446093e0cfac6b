import json

from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser


class LenientJSONParser(BaseParser):
    """Reads every request body as JSON, whatever its Content-Type: curl's -d sends
    form-urlencoded, some clients send none, and MLflow puts JSON bodies on DELETE."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise ParseError("Malformed JSON request body.") from None
        if not isinstance(data, dict):
            raise ParseError("The request body must be a JSON object.")
        return data
