from rest_framework.permissions import BasePermission

NO_SCOPE_DECLARED = "This endpoint declares no scope, so no API key may call it."
# Declared by a view any valid key may call, whatever its scopes (GET /v1/me): a declaration
# like any other, so "declares nothing" still fails closed.
ANY_SCOPE = "*"


def required_scope(view) -> str | None:
    """The scope the view declares for the action being run: `required_scopes[action]`,
    else the view's `default_scope`; None when it declares neither."""
    declared = getattr(view, "required_scopes", {}).get(getattr(view, "action", None))
    return declared or getattr(view, "default_scope", None)


class HasScope(BasePermission):
    """Fails closed: a view behind a key must declare the scope each action needs, and a
    view that declares none is refused for every key. Otherwise a new view, or a new action
    on an old one, would be open to any key by default (PostHog's and Sentry's scope
    permissions deny in that case too)."""

    def has_permission(self, request, view) -> bool:
        principal = request.user
        if principal is None:
            return False
        scope = required_scope(view)
        if scope is None:
            self.message = NO_SCOPE_DECLARED
            return False
        if scope == ANY_SCOPE or principal.has_scope(scope):
            return True
        self.message = f"This API key does not have the '{scope}' scope."
        return False
