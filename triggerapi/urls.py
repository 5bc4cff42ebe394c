from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from rest_framework.routers import SimpleRouter

from activity.views import SeriesView, StatsView
from browser.views import index
from events.views import EventViewSet
from hooks.views import HookViewSet
from tenants.views import MeView
from triggerapi import exceptions, views

router = SimpleRouter()
router.trailing_slash = "/?"
router.register("v1/events", EventViewSet, basename="event")
router.register("v1/hooks", HookViewSet, basename="hook")

urlpatterns = [
    path("", index, name="index"),
    re_path(r"^v1/?$", index, name="v1-index"),
    path("health", views.health, name="health"),
    path("health/ready", views.ready, name="health-ready"),
    re_path(r"^v1/me/?$", MeView.as_view(), name="me"),
    re_path(r"^v1/stats/?$", StatsView.as_view(), name="stats"),
    re_path(r"^v1/stats/series/?$", SeriesView.as_view(), name="stats-series"),
    *router.urls,
    re_path(r"^v1/schema/?$", views.SchemaView.as_view(), name="schema"),
    re_path(r"^v1/docs/?$", views.SwaggerUIView.as_view(url_name="schema"), name="swagger-ui"),
    path("auth/", include("browser.urls")),
    path("console/", include("console.urls")),
    # Last: any other path is a JSON 404, also with DEBUG on, and for any method (so the CSRF
    # check, which guards the login form, must not turn a POST to nowhere into a 403 page).
    re_path(r"^", csrf_exempt(exceptions.not_found), name="not-found"),
]

handler400 = "triggerapi.exceptions.bad_request"
handler403 = "triggerapi.exceptions.permission_denied"
handler404 = "triggerapi.exceptions.not_found"
handler500 = "triggerapi.exceptions.server_error"
