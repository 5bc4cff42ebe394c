"""Fields and serializer bases every app's input and output serializers share."""

from django.core.validators import ProhibitNullCharactersValidator
from rest_framework import serializers
from rest_framework.utils.serializer_helpers import BindingDict


class Output(serializers.Serializer):
    """A response's shape: it renders, and never validates. DRF deep-copies a serializer's
    declared fields for every instance it makes (a tenth of a millisecond of CPU for an
    event, a third of what rendering one costs); an output serializer binds them once per
    class, to an instance of its own that holds nothing, and every instance renders with
    those. Rendering reads nothing of a field's serializer but its `get_<name>` methods (no
    context, no instance, no `partial`), so the one set serves every instance and thread."""

    @property
    def fields(self) -> BindingDict:
        cls = type(self)
        bound = cls.__dict__.get("_bound_fields")
        if bound is None:
            template = cls()
            bound = BindingDict(template)
            for name, field in template.get_fields().items():
                bound[name] = field
            cls._bound_fields = bound  # two threads may both bind: either set will do
        return bound

    def run_validation(self, data=serializers.empty):
        raise TypeError(f"{type(self).__name__} renders responses; it does not validate")


class ConstantField(serializers.ChoiceField):
    """A response field that always says `value` (`{"status": "acknowledged"}`): the output
    serializer owns the word, and the schema documents it as a one-value enum."""

    def __init__(self, value: str, **kwargs):
        self.value = value
        super().__init__(choices=[value], **kwargs)

    def get_attribute(self, instance) -> str:
        return self.value


def validated(serializer_class, data) -> dict:
    """`data` validated by `serializer_class`: its validated_data, or a 400 in the envelope."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class StrictIntegerField(serializers.IntegerField):
    """Integers as JSON numbers or query strings; not booleans or 2.5."""

    def to_internal_value(self, data):
        if isinstance(data, (bool, float)):
            self.fail("invalid")
        return super().to_internal_value(data)


class JSONIntegerField(StrictIntegerField):
    """An integer in a JSON body is a JSON number: "10" is refused, not converted."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ExactStringField(serializers.CharField):
    """A string taken exactly as sent: not trimmed, and NUL allowed, as in a payload (which
    keeps both), so that a filter can name any value a payload has and an id that is no
    item's is simply not found. A number is not a string (5 is refused, not "5")."""

    def __init__(self, **kwargs):
        super().__init__(trim_whitespace=False, **kwargs)
        self.validators = [v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)]

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


# A body of options: an unknown field is a 400 naming it (API.md), since a typo such as
# `limt` must not silently lease the default 10 events. (A comment, not a docstring: the
# schema would show a docstring as the description of every such body.)
class OptionsSerializer(serializers.Serializer):
    def to_internal_value(self, data):
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, dict) else []
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


class QuerySerializer(serializers.Serializer):
    """A filter given twice (`?status=a&status=b`) is refused: a query string keeps every
    value, and taking the last one would answer a question the client did not ask."""

    def to_internal_value(self, data):
        repeated = [name for name in self.fields if len(data.getlist(name)) > 1] if hasattr(data, "getlist") else []
        if repeated:
            raise serializers.ValidationError({name: ["Give this parameter at most once."] for name in repeated})
        return super().to_internal_value(data)
