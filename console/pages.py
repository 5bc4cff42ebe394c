"""What every console page shares: the session's tenant (or the login page), the scopes its
key was issued with, the error page that says what the API's envelope would say, and a
stricter Content-Security-Policy than the other pages (the console has no inline style)."""

import json
from functools import wraps
from urllib.parse import quote

from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from rest_framework.exceptions import PermissionDenied

from limits.requests import refusal, request_token_take
from tenants.authentication import SESSION_KEY_HASH
from tenants.selectors import tenant_get_by_api_key_hash
from triggerapi.exceptions import envelope, exception_handler, json_error
from triggerapi.headers import PAGE_POLICY
from triggerapi.http_methods import require_methods

CONSOLE_POLICY = PAGE_POLICY.replace("style-src 'self' 'unsafe-inline'", "style-src 'self'")


def page(request, template: str, context: dict, status: int = 200) -> HttpResponse:
    """A console page; `principal` (when logged in) names the tenant and what its key may do."""
    principal = getattr(request, "principal", None)
    if principal is not None:
        context = {
            "tenant_id": principal.tenant_id,
            "scopes": principal.scopes,
            "section": _section(request),
            **context,
        }
    response = render(request, template, context, status=status)
    response["Content-Security-Policy"] = CONSOLE_POLICY
    return response


def _section(request) -> str:
    """The part of the console a page belongs to (the navigation marks it): `event-retry` is
    under events, `delivery-retry` under hooks."""
    name = (request.resolver_match.url_name if request.resolver_match else None) or ""
    first = name.split("-")[0]
    return {"event": "events", "hook": "hooks", "delivery": "hooks"}.get(first, first)


def error_page(request, status: int, body: dict) -> HttpResponse:
    """The envelope itself to a client that asks for JSON, a page saying it to a browser."""
    if not request.accepts("text/html"):
        return JsonResponse(body, status=status)
    # Each detail as the envelope's JSON says it (`["Must not be before since."]`), not as
    # Python prints DRF's ErrorDetail objects.
    details = [(name, json.dumps(value, ensure_ascii=False)) for name, value in body["error"]["details"].items()]
    context = {"error": body["error"], "details": details, "status": status}
    return page(request, "console/error.html", context, status=status)


def console_page(*methods: str):
    """A page of the logged-in tenant, for these methods (405 otherwise, as the API says it),
    never cached; without a session, the login page. Each takes a token of the tenant's
    request rate, as an API request does. What the API would answer with an error envelope
    (a 404, a 409, a 403 for a scope, a 429, the store unavailable) is an error page saying
    the same, with the same status. The marks `session_guarded` and `methods` let the route
    tests find every such page and call it."""

    def decorator(view):
        @require_methods(*methods)
        @never_cache
        @wraps(view)
        def guarded(request, *args, **kwargs):
            try:
                # The session and the key are read from the store: its failure is a 503 page too.
                key_hash = request.session.get(SESSION_KEY_HASH)
                principal = tenant_get_by_api_key_hash(key_hash=key_hash) if key_hash else None
                if principal is None:
                    return redirect(_login_for(request))
                request.principal = principal
                # A page is a request of the tenant's like any other: it takes its token.
                answer = request_token_take(tenant_id=principal.tenant_id)
                if not answer.allowed:
                    raise refusal(answer)
                return view(request, *args, **kwargs)
            except Exception as exc:  # the API's exception handler says what it is
                answer = exception_handler(exc, {"request": request})
                # Only a bug (the handler's 500) goes on to Django's last resort: a 503 the
                # services raise themselves (a write the store did not confirm) is a page.
                if answer.status_code == 500:
                    raise
                response = error_page(request, answer.status_code, answer.data)
                for header in ("Retry-After", "Allow"):
                    if header in answer:
                        response[header] = answer[header]
                return response

        guarded.session_guarded, guarded.methods = True, methods
        return guarded

    return decorator


def _login_for(request) -> str:
    """The login page, to come back to this page with its query (a form's target, which only
    takes a POST, sends the browser to the overview instead)."""
    back = request.get_full_path() if request.method in ("GET", "HEAD") else reverse("console:overview")
    return f"{reverse('console:login')}?next={quote(back, safe='/')}"


def require_scope(request, scope: str) -> None:
    """The same scopes as the API: a key without it is refused as the API refuses it."""
    if not request.principal.has_scope(scope):
        raise PermissionDenied(f"This API key does not have the '{scope}' scope.")


def csrf_failure(request, reason: str = "") -> HttpResponse:
    """A form posted without its CSRF token (or with a stale one): on the console, a page
    saying so; anywhere else, the envelope."""
    message = f"CSRF check failed: {reason} Reload the page and try again."
    if request.path_info.startswith("/console/"):
        return error_page(request, 403, envelope("permission_denied", message))
    return json_error(403, "permission_denied", message)
