from rest_framework import serializers


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
