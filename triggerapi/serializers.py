from rest_framework import serializers


class ConstantField(serializers.ChoiceField):
    """A response field that always says `value` (`{"status": "acknowledged"}`): the output
    serializer owns the word, and the schema documents it as a one-value enum."""

    def __init__(self, value: str, **kwargs):
        self.value = value
        super().__init__(choices=[value], **kwargs)

    def get_attribute(self, instance) -> str:
        return self.value
