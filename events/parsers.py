"""Reading JSON bodies strictly: the contract tells apart 400 malformed_json, 400
validation_error, 413 and 415, where DRF would answer `{}` for an empty or untyped body."""

import hashlib
import json

from rest_framework.exceptions import UnsupportedMediaType, ValidationError
from rest_framework.parsers import BaseParser

from triggerapi.exceptions import MalformedJSON, PayloadTooLarge

JSON_MEDIA_TYPE = "application/json"
# Deeper documents are refused (400) rather than risking the recursion limit on render.
MAX_DEPTH = 256


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


class StrictJSONParser(BaseParser):
    """UTF-8 JSON only; NaN, Infinity, invalid UTF-8 and lone surrogates are errors."""

    media_type = JSON_MEDIA_TYPE

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read()
        try:
            data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        except UnicodeDecodeError:
            raise MalformedJSON("The request body is not valid UTF-8.") from None
        except ValueError as exc:
            raise MalformedJSON(f"The request body is not valid JSON: {exc}.") from None
        except RecursionError:
            raise ValidationError({"body": [f"JSON is nested deeper than {MAX_DEPTH} levels."]}) from None
        _check_depth(data, raw)
        return data


def _check_depth(data, raw: bytes) -> None:
    # Cheap bound first: a document can't be deeper than its count of brackets.
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return
    level = [(data, 1)]
    while level:
        value, depth = level.pop()
        if depth > MAX_DEPTH:
            raise ValidationError({"body": [f"JSON is nested deeper than {MAX_DEPTH} levels."]})
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        level.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))


def request_json(request, *, max_bytes: int, required: bool = True):
    """The parsed JSON body of a DRF request; None when the body is empty and not required."""
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > max_bytes:
        raise PayloadTooLarge(f"The request body is {length} bytes; the limit is {max_bytes}.")
    if length == 0:
        if required:
            raise MalformedJSON("The request body is empty; send a JSON object.")
        return None
    if (request.content_type or "").split(";")[0].strip().lower() != JSON_MEDIA_TYPE:
        raise UnsupportedMediaType(
            request.content_type or "(none)", detail="Send the body as Content-Type: application/json."
        )
    return request.data


def canonical_json(value) -> str:
    """Compact JSON text as stored; a lone surrogate can't be stored as UTF-8, so it is refused."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError({"body": ["Strings must be valid Unicode (no unpaired surrogates)."]}) from None
    return text


def request_fingerprint(kind: str, value) -> str:
    """Same request, same fingerprint, whatever the key order or whitespace."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(f"{kind}\n{text}".encode()).hexdigest()
