from django.urls import path

from console import views

app_name = "console"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("events", views.events, name="events"),
    path("events/<str:event_id>", views.event, name="event"),
    path("events/<str:event_id>/retry", views.event_retry_form, name="event-retry"),
    path("events/<str:event_id>/delete", views.event_delete_form, name="event-delete"),
]
