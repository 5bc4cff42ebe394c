"""Security headers for an API that also serves a few pages (the browsable API, the login
page, Swagger UI, the console), and the CORS decision: there is no CORS.

Django's SecurityMiddleware sends nosniff, Referrer-Policy and, on Lambda, HSTS (settings);
this adds a Content-Security-Policy to every response, `Cache-Control: no-store` to every
/v1/ and /console/ answer, and answers CORS preflights."""

from triggerapi.exceptions import json_error

# The pages load their scripts, styles, fonts and images from this site only and call only
# this site. Inline styles stay allowed: DRF's templates and Swagger UI use style attributes,
# and a style cannot run code. Inline scripts do not (the pages have none).
PAGE_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# A JSON body is never a document to render: nothing may load from it or frame it.
API_POLICY = "default-src 'none'; frame-ancestors 'none'"

# Payloads and hook secrets must not be kept by a cache between the API and its client (a
# proxy, the browser's back button): every /v1/ answer says so, errors and 401s included,
# and every console page (they show the same), its redirects, 405s and error pages too.
API_CACHE_CONTROL = "no-store"

NO_CORS = (
    "Cross-origin requests from browsers are not allowed (this API sends no CORS headers): "
    "call it from a server, or use the pages it serves on its own origin."
)


def _is_api(request) -> bool:
    return request.path_info == "/v1" or request.path_info.startswith("/v1/")


def _is_console(request) -> bool:
    return request.path_info.startswith("/console/")


def _is_preflight(request) -> bool:
    return (
        request.method == "OPTIONS"
        and "HTTP_ORIGIN" in request.META
        and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in request.META
    )


class SecurityHeadersMiddleware:
    """No CORS: keys belong on servers, and the pages are served from the API's own origin,
    so no response carries Access-Control-Allow-Origin and a preflight is refused outright
    (403, no Access-Control-* headers), before authentication or any store call."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _is_preflight(request):
            response = json_error(403, "permission_denied", NO_CORS)
        else:
            response = self.get_response(request)
        is_page = response.get("Content-Type", "").startswith("text/html")
        response.setdefault("Content-Security-Policy", PAGE_POLICY if is_page else API_POLICY)
        if _is_api(request) or _is_console(request):
            response["Cache-Control"] = API_CACHE_CONTROL
        return response
