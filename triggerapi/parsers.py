"""Reading JSON bodies strictly: the contract tells apart 400 malformed_json, 400
validation_error, 413 and 415, where DRF would answer `{}` for an empty or untyped body."""

import json
import math

from rest_framework.exceptions import UnsupportedMediaType, ValidationError
from rest_framework.parsers import BaseParser

from triggerapi.duplicate_keys import RepeatedKeyCheck
from triggerapi.exceptions import MalformedJSON, PayloadTooLarge
from triggerapi.request_body import declared_length, read_chunked, refuse_content_encoding

JSON_MEDIA_TYPE = "application/json"
# Deeper documents are refused (400) rather than risking the recursion limit on render.
MAX_DEPTH = 256


# Python's own limit on converting digits to an int (sys.get_int_max_str_digits()).
MAX_INT_DIGITS = 4300


class NumberOutOfRange(Exception):
    """Valid JSON, but a number the API cannot keep exactly: it is refused, never changed."""


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _parse_float(text: str) -> float:
    value = float(text)
    mantissa = text.lower().split("e")[0]
    if math.isinf(value) or (value == 0 and any(digit in mantissa for digit in "123456789")):
        raise NumberOutOfRange(f"{text[:40]} does not fit a 64-bit float")
    return value


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise NumberOutOfRange(f"integers may have at most {MAX_INT_DIGITS} digits")
    return int(text)


class StrictJSONParser(BaseParser):
    """UTF-8 JSON only; NaN, Infinity, invalid UTF-8, lone surrogates and repeated keys are errors."""

    media_type = JSON_MEDIA_TYPE

    def parse(self, stream, media_type=None, parser_context=None):
        return parse_json(stream.read())


def parse_json(raw: bytes):
    repeated_keys = RepeatedKeyCheck()
    try:
        data = json.loads(
            raw.decode("utf-8"),
            object_pairs_hook=repeated_keys,
            parse_constant=_reject_constant,
            parse_float=_parse_float,
            parse_int=_parse_int,
        )
    except NumberOutOfRange as exc:
        raise ValidationError({"body": [f"A number is out of range: {exc}."]}) from None
    except UnicodeDecodeError:
        raise MalformedJSON("The request body is not valid UTF-8.") from None
    except ValueError as exc:
        raise MalformedJSON(f"The request body is not valid JSON: {exc}.") from None
    except RecursionError:
        raise ValidationError({"body": [f"JSON is nested deeper than {MAX_DEPTH} levels."]}) from None
    _check_depth(data, raw)
    repeated_keys.refuse(data)
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


def request_json(request, *, max_bytes: int, optional: bool = False):
    """The parsed JSON body of a request, read within `max_bytes` whether it was sent with
    a Content-Length (DRF reads it, through StrictJSONParser) or chunked. With `optional`,
    an absent or empty body (a body of options) is `{}`, the defaults."""
    length = declared_length(request)
    if length is not None and length > max_bytes:
        raise PayloadTooLarge(f"The request body is {length} bytes; the limit is {max_bytes}.")
    if length != 0:
        if (request.content_type or "").split(";")[0].strip().lower() != JSON_MEDIA_TYPE:
            raise UnsupportedMediaType(
                request.content_type or "(none)", detail="Send the body as Content-Type: application/json."
            )
        refuse_content_encoding(request)
        if length is not None:
            return request.data
        raw = read_chunked(request, max_bytes=max_bytes)
        if raw:
            return parse_json(raw)
    if optional:
        return {}
    raise MalformedJSON("The request body is empty; send a JSON object.")
