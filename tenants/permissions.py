from rest_framework.permissions import BasePermission


class HasScope(BasePermission):
    """The view names the scope each action needs (`required_scopes`, else `default_scope`)."""

    def has_permission(self, request, view) -> bool:
        principal = request.user
        if principal is None:
            return False
        scope = getattr(view, "required_scopes", {}).get(
            getattr(view, "action", None), getattr(view, "default_scope", None)
        )
        if scope is None or principal.has_scope(scope):
            return True
        self.message = f"This API key does not have the '{scope}' scope."
        return False
