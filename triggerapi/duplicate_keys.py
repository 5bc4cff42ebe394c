"""Repeated keys in a JSON object. Python's json keeps the last value of a repeated key and
drops the others without a word; the API refuses what it cannot keep exactly, so a body with
a repeated key is a 400 that says where the key is (`events[2].email`), and nothing is stored."""

import json
import re

from rest_framework.exceptions import ValidationError

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ObjectWithRepeatedKey(dict):
    """A parsed JSON object in which `repeated` appeared more than once."""

    def __init__(self, pairs: list, repeated: str):
        super().__init__(pairs)
        self.repeated = repeated


class RepeatedKeyCheck:
    """json's object_pairs_hook, for one document: builds each object, marks one whose keys
    repeat, and afterwards refuses the document if any did. The walk to find where runs only
    then, so a clean body costs no second pass."""

    def __init__(self):
        self.found = False

    def __call__(self, pairs: list[tuple[str, object]]) -> dict:
        obj = dict(pairs)
        if len(obj) == len(pairs):
            return obj
        self.found = True
        seen: set[str] = set()
        return ObjectWithRepeatedKey(pairs, next(key for key, _ in pairs if key in seen or seen.add(key)))

    def refuse(self, data) -> None:
        """400 naming the first repeated key and where it is (`events[2].email`)."""
        found = _find(data) if self.found else None
        if found is not None:
            where, key = found
            raise ValidationError({where: [f"The key {json.dumps(key)} appears more than once in this object."]})


def _find(data) -> tuple[str, str] | None:
    """Depth-first, in document order, without recursion (a body may nest 256 levels deep)."""
    stack = [(data, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, ObjectWithRepeatedKey):
            return _join(path, value.repeated), value.repeated
        if isinstance(value, dict):
            stack.extend((child, _join(path, key)) for key, child in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((child, f"{path}[{index}]") for index, child in reversed(list(enumerate(value))))
    return None


def _join(path: str, key: str) -> str:
    if not _NAME.match(key):
        return f"{path}[{json.dumps(key)}]"
    return f"{path}.{key}" if path else key
