"""HEAD, OPTIONS and 405 the same way on every route, DRF's or Django's own.

DRF maps HEAD to GET only for viewsets, Django's `require_http_methods` answers 405 with an
empty HTML response, and a template-rendered view (Swagger UI) has no template for an error
or for OPTIONS. These make every route behave alike: HEAD is GET without the body, and what
is not a page is JSON in the contract's envelope."""

from functools import wraps

from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from triggerapi.exceptions import json_error


class HeadMiddleware:
    """HEAD is GET without the body (RFC 9110 9.3.2), whoever serves the app: gunicorn drops
    the body itself, Zappa's Lambda handler does not. Content-Length stays GET's, since
    CommonMiddleware (inside this one) has already set it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method == "HEAD" and not response.streaming:
            response.content = b""
        return response


def require_methods(*methods: str):
    """Django's `require_http_methods` for the browser's views, answering 405 in the envelope
    (with `Allow`). GET allows HEAD."""
    allowed = {*methods, "HEAD"} if "GET" in methods else set(methods)

    def decorator(view):
        @wraps(view)
        def checked(request, *args, **kwargs):
            if request.method not in allowed:
                response = json_error(405, "method_not_allowed", f'Method "{request.method}" not allowed.')
                response["Allow"] = ", ".join(sorted(allowed))
                return response
            return view(request, *args, **kwargs)

        return checked

    return decorator


class JSONBesidesThePageMixin:
    """For a view that renders one thing (a template, the schema): its errors and its OPTIONS
    answer are JSON, as everywhere else in the API."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(response, Response) and (response.exception or request.method == "OPTIONS"):
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = JSONRenderer.media_type
        return response
