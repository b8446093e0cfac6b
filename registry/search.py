"""MLflow's search grammar, compiled to SQL.

A filter is comparisons joined by AND (no OR, no grouping), values in single or double quotes
(numbers bare for version_number), identifiers either attributes or `tag.`/`tags.` + key, with
backticks around keys that contain dots: tags.`mlflow.prompt.is_prompt` != 'true'.
Everything compiles to a Django Q over indexed columns; nothing filters in Python.
"""

import base64
import binascii
import json
import re
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q

from audit.errors import InvalidParameterValue

from .models import ModelVersionTag, RegisteredModelTag

PROMPT_TAG = "mlflow.prompt.is_prompt"

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^']|'')*'|"(?:[^"]|"")*")
  | (?P<number>-?\d+(?![\w.]))
  | (?P<op>!=|<>|<=|>=|=|<|>)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<comma>,)
  | (?P<ident>(?:`[^`]*`|[A-Za-z_][\w]*)(?:\.(?:`[^`]*`|[A-Za-z_][\w]*))*)
    """,
    re.VERBOSE,
)
_KEYWORDS = {"AND", "OR", "LIKE", "ILIKE", "IN", "NOT", "IS", "NULL"}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    pos: int


@dataclass(frozen=True)
class Clause:
    kind: str  # "attribute" or "tag"
    key: str
    comparator: str
    value: object  # str, int, or tuple of str for IN / NOT IN


def _tokenize(text):
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None:
            raise InvalidParameterValue(
                f"Invalid filter string '{text}': unexpected character {text[pos]!r} at "
                f"position {pos}."
            )
        kind = match.lastgroup
        if kind != "ws":
            value = match.group()
            if kind == "ident" and value.upper() in _KEYWORDS:
                kind, value = "keyword", value.upper()
            tokens.append(Token(kind, value, pos))
        pos = match.end()
    return tokens


def _unquote(token):
    quote = token.text[0]
    return token.text[1:-1].replace(quote * 2, quote)


def _split_identifier(text):
    parts, current, in_tick = [], [], False
    for char in text:
        if char == "`":
            in_tick = not in_tick
        elif char == "." and not in_tick:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _identifier(token):
    parts = _split_identifier(token.text)
    head = parts[0].lower()
    if head in {"tag", "tags"} and len(parts) > 1:
        return "tag", ".".join(parts[1:])
    if head == "attribute" and len(parts) > 1:
        return "attribute", ".".join(parts[1:])
    return "attribute", ".".join(parts)


class _Parser:
    def __init__(self, text):
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0

    def error(self, message):
        return InvalidParameterValue(f"Invalid filter string '{self.text}': {message}")

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, what):
        token = self.peek()
        if token is None:
            raise self.error(f"expected {what} at the end of the filter.")
        self.i += 1
        return token

    def parse(self):
        clauses = [self.clause()]
        while self.peek() is not None:
            token = self.take("AND")
            if token.kind == "keyword" and token.text == "OR":
                raise self.error("OR is not supported; only AND-joined comparisons are.")
            if not (token.kind == "keyword" and token.text == "AND"):
                raise self.error(f"expected AND, found '{token.text}' at position {token.pos}.")
            clauses.append(self.clause())
        return clauses

    def clause(self):
        token = self.take("an attribute or tag")
        if token.kind == "lparen":
            raise self.error("parentheses for grouping are not supported.")
        if token.kind != "ident":
            raise self.error(f"expected an attribute or tag, found '{token.text}'.")
        kind, key = _identifier(token)
        if not key:
            raise self.error(f"empty key in '{token.text}'.")
        comparator = self.comparator()
        if comparator in {"IN", "NOT IN"}:
            value = self.value_list()
        else:
            value_token = self.take(f"a value after {comparator}")
            if value_token.kind == "string":
                value = _unquote(value_token)
            elif value_token.kind == "number":
                value = int(value_token.text)
            else:
                raise self.error(
                    f"expected a quoted value after {comparator}, found '{value_token.text}'."
                )
        return Clause(kind, key, comparator, value)

    def comparator(self):
        token = self.take("a comparator")
        if token.kind == "op":
            return "!=" if token.text == "<>" else token.text
        if token.kind == "keyword" and token.text in {"LIKE", "ILIKE", "IN"}:
            return token.text
        if token.kind == "keyword" and token.text == "NOT":
            nxt = self.take("IN")
            if nxt.kind == "keyword" and nxt.text == "IN":
                return "NOT IN"
        if token.kind == "keyword" and token.text == "IS":
            raise self.error("IS NULL / IS NOT NULL is not supported in registry searches.")
        raise self.error(f"expected a comparator, found '{token.text}' at position {token.pos}.")

    def value_list(self):
        if self.take("(").kind != "lparen":
            raise self.error("IN needs a parenthesised list of quoted values.")
        values = []
        while True:
            token = self.take("a quoted value")
            if token.kind != "string":
                raise self.error(f"IN lists take quoted values, found '{token.text}'.")
            values.append(_unquote(token))
            token = self.take("',' or ')'")
            if token.kind == "rparen":
                return tuple(values)
            if token.kind != "comma":
                raise self.error(f"expected ',' or ')' in IN list, found '{token.text}'.")


def parse_filter(text):
    if text is None or not text.strip():
        return []
    return _Parser(text).parse()


_STRING_LOOKUPS = {"=": "exact", "LIKE": "like", "ILIKE": "ilike"}
_NUMERIC_LOOKUPS = {"=": "exact", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}


def _string_q(field, clause, allowed):
    if clause.comparator not in allowed:
        raise InvalidParameterValue(
            f"Invalid comparator '{clause.comparator}' for {clause.key}; expected one of "
            f"{', '.join(sorted(allowed))}."
        )
    if not isinstance(clause.value, (str, tuple)):
        raise InvalidParameterValue(f"Value for {clause.key} must be a quoted string.")
    if clause.comparator == "!=":
        return ~Q(**{field: clause.value})
    if clause.comparator == "IN":
        return Q(**{f"{field}__in": clause.value})
    if clause.comparator == "NOT IN":
        return ~Q(**{f"{field}__in": clause.value})
    return Q(**{f"{field}__{_STRING_LOOKUPS[clause.comparator]}": clause.value})


def _tag_q(tag_model, owner_field, clause):
    if clause.comparator not in {"=", "!=", "LIKE", "ILIKE"}:
        raise InvalidParameterValue(
            f"Invalid comparator '{clause.comparator}' for tag '{clause.key}'; expected one of "
            "=, !=, LIKE, ILIKE."
        )
    if not isinstance(clause.value, str):
        raise InvalidParameterValue(f"Value for tag '{clause.key}' must be a quoted string.")
    tags = tag_model.objects.filter(**{owner_field: OuterRef("pk")}, key=clause.key)
    if clause.key == PROMPT_TAG and clause.value.lower() in {"true", "false"}:
        # Models without the tag are not prompts: they match != 'true' and = 'false'.
        is_prompt = Exists(tags.filter(value__iexact="true"))
        wants_prompts = (clause.comparator == "=") == (clause.value.lower() == "true")
        return Q(is_prompt) if wants_prompts else ~Q(is_prompt)
    if clause.comparator == "!=":
        return Q(Exists(tags.exclude(value=clause.value)))
    lookup = _STRING_LOOKUPS[clause.comparator]
    return Q(Exists(tags.filter(**{f"value__{lookup}": clause.value})))


def _asks_for_prompts(clauses):
    return any(
        c.kind == "tag" and c.key == PROMPT_TAG and c.comparator == "="
        and str(c.value).lower() == "true"
        for c in clauses
    )


def model_filter(text):
    """Compile a registered-model filter to a Q on RegisteredModel."""
    clauses = parse_filter(text)
    q = Q()
    for clause in clauses:
        if clause.kind == "tag":
            q &= _tag_q(RegisteredModelTag, "model", clause)
        elif clause.key == "name":
            q &= _string_q("name", clause, {"=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"})
        else:
            raise InvalidParameterValue(
                f"Invalid attribute key '{clause.key}' in registered model search; "
                "valid keys are 'name' and tags ('tags.<key>')."
            )
    if not _asks_for_prompts(clauses):
        q &= ~Q(Exists(RegisteredModelTag.objects.filter(
            model=OuterRef("pk"), key=PROMPT_TAG, value__iexact="true"
        )))
    return q


def version_filter(text):
    """Compile a model-version filter to a Q on ModelVersion."""
    clauses = parse_filter(text)
    q = Q()
    for clause in clauses:
        if clause.kind == "tag":
            q &= _tag_q(ModelVersionTag, "version", clause)
        elif clause.key == "name":
            q &= _string_q("model__name", clause, {"=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"})
        elif clause.key == "run_id":
            q &= _string_q("run_id", clause, {"=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"})
        elif clause.key == "source_path":
            q &= _string_q("source", clause, {"=", "!=", "LIKE", "ILIKE"})
        elif clause.key in {"version_number", "version"}:
            if clause.comparator not in {"!=", *_NUMERIC_LOOKUPS}:
                raise InvalidParameterValue(
                    f"Invalid comparator '{clause.comparator}' for version_number; expected "
                    "one of =, !=, <, <=, >, >=."
                )
            try:
                number = int(clause.value)
            except (TypeError, ValueError):
                raise InvalidParameterValue(
                    f"version_number must be compared with an integer, got '{clause.value}'."
                ) from None
            if clause.comparator == "!=":
                q &= ~Q(version=number)
            else:
                q &= Q(**{f"version__{_NUMERIC_LOOKUPS[clause.comparator]}": number})
        else:
            raise InvalidParameterValue(
                f"Invalid attribute key '{clause.key}' in model version search; valid keys are "
                "'name', 'run_id', 'source_path', 'version_number' and tags ('tags.<key>')."
            )
    if not _asks_for_prompts(clauses):
        q &= ~Q(Exists(RegisteredModelTag.objects.filter(
            model=OuterRef("model"), key=PROMPT_TAG, value__iexact="true"
        )))
    return q


MODEL_ORDER_FIELDS = {
    "name": "name",
    "timestamp": "updated_at",
    "last_updated_timestamp": "updated_at",
    "creation_timestamp": "created_at",
}
VERSION_ORDER_FIELDS = {
    "name": "model__name",
    "version_number": "version",
    "creation_timestamp": "created_at",
    "last_updated_timestamp": "updated_at",
    "timestamp": "updated_at",
}
DEFAULT_MODEL_ORDER = ["name"]
DEFAULT_VERSION_ORDER = ["-updated_at", "model__name", "-version"]


def _ordering(order_by, fields, default, tiebreak):
    result, seen = [], set()
    for item in order_by or []:
        parts = item.strip().split()
        if not parts or len(parts) > 2:
            raise InvalidParameterValue(f"Invalid order_by clause '{item}'.")
        key = parts[0]
        if key.lower().startswith("attribute."):
            key = key[len("attribute."):]
        direction = parts[1].upper() if len(parts) == 2 else "ASC"
        if key not in fields or direction not in {"ASC", "DESC"}:
            raise InvalidParameterValue(
                f"Invalid order_by clause '{item}'. Only {', '.join(fields)} with an optional "
                "ASC or DESC are supported."
            )
        if key in seen:
            raise InvalidParameterValue(f"`order_by` contains duplicate fields: {key}")
        seen.add(key)
        result.append(("-" if direction == "DESC" else "") + fields[key])
    if not result:
        result = list(default)
    return [*result, *tiebreak]


def model_ordering(order_by):
    return _ordering(order_by, MODEL_ORDER_FIELDS, DEFAULT_MODEL_ORDER, ["name"])


def version_ordering(order_by):
    return _ordering(
        order_by, VERSION_ORDER_FIELDS, DEFAULT_VERSION_ORDER, ["model__name", "-version"]
    )


def encode_page_token(offset):
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


# OFFSET and LIMIT are bigints in PostgreSQL: a forged token past this would be a 500.
MAX_PAGE_OFFSET = 2**62


def decode_page_token(token):
    if not token:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode() + b"=" * (-len(token) % 4)))
        offset = int(data["offset"])
    except (binascii.Error, ValueError, TypeError, KeyError, OverflowError):
        # OverflowError: int() of an infinite float ({"offset": 1e400}).
        raise InvalidParameterValue(f"Invalid page token '{token}'.") from None
    if not 0 <= offset <= MAX_PAGE_OFFSET:
        raise InvalidParameterValue(f"Invalid page token '{token}'.")
    return offset
