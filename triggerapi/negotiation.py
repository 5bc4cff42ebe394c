"""Content negotiation with the common case first: a request that names no format and
accepts anything or JSON (no `Accept`, `*/*`, `application/json`) gets the first renderer,
JSON, as DRF's own negotiation would answer it, without parsing the header and matching it
against every renderer (a twentieth of a warm request's CPU). Anything else, the browsable
API's `text/html` included, is DRF's to decide."""

from rest_framework.negotiation import DefaultContentNegotiation

JSON = "application/json"
_ANY_OR_JSON = frozenset({None, "*/*", JSON})


class ContentNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        if (
            request.META.get("HTTP_ACCEPT") in _ANY_OR_JSON
            and not (format_suffix or request.query_params.get(self.settings.URL_FORMAT_OVERRIDE))
            and renderers
            and renderers[0].media_type == JSON
        ):
            return renderers[0], JSON
        return super().select_renderer(request, renderers, format_suffix)
