from django.urls import path

from console import auth, hooks, views

app_name = "console"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("login", auth.login, name="login"),
    path("logout", auth.logout, name="logout"),
    path("events", views.events, name="events"),
    path("events/<str:event_id>", views.event, name="event"),
    path("events/<str:event_id>/retry", views.event_retry_form, name="event-retry"),
    path("events/<str:event_id>/delete", views.event_delete_form, name="event-delete"),
    path("replay", views.replay, name="replay"),
    path("hooks", hooks.hooks, name="hooks"),
    path("hooks/new", hooks.hook_create, name="hook-create"),
    path("hooks/<str:hook_id>", hooks.hook, name="hook"),
    path("hooks/<str:hook_id>/edit", hooks.hook_update, name="hook-update"),
    path("hooks/<str:hook_id>/rotate", hooks.hook_rotate, name="hook-rotate"),
    path("hooks/<str:hook_id>/secret", hooks.hook_secret, name="hook-secret"),
    path("hooks/<str:hook_id>/test", hooks.hook_test, name="hook-test"),
    path("hooks/<str:hook_id>/deliveries/<str:delivery_id>/retry", hooks.delivery_retry, name="delivery-retry"),
]
