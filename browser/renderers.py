from django.urls import reverse
from rest_framework import renderers

from events.models import STATUSES

# Query parameters the event list takes, in the order the filter form shows them.
LIST_FILTERS = ("status", "event_type", "limit")
# What the create form starts with, to be edited: the body of POST /v1/events is the payload.
EXAMPLE_PAYLOAD = '{\n    "event_type": "customer.created",\n    "email": "alice@acme.com"\n}'


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """DRF's browsable API plus what a tenant needs on top of it: a filter form on the event
    list and an Ack button on an event's page. Every list's page links are its paginator's
    (triggerapi.pagination), which DRF's page draws."""

    template = "browser/api.html"

    def get_raw_data_form(self, data, view, method, request):
        form = super().get_raw_data_form(data, view, method, request)
        if form is not None and getattr(view, "basename", None) == "event" and view.action == "list":
            form.initial["_content"] = EXAMPLE_PAYLOAD
        return form

    def get_context(self, data, accepted_media_type, renderer_context):
        context = super().get_context(data, accepted_media_type, renderer_context)
        view, request, response = renderer_context["view"], renderer_context["request"], renderer_context["response"]
        if getattr(view, "basename", None) != "event" or response.status_code != 200:
            return context
        if view.action == "list":
            context.update(_list_context(request))
        elif view.action == "retrieve" and data["status"] != "delivered":
            context["ack_url"] = reverse("event-ack", kwargs={"event_id": data["id"]})
        return context


def _list_context(request) -> dict:
    filters = {name: request.query_params[name] for name in LIST_FILTERS if request.query_params.get(name)}
    return {"list_filters": filters, "statuses": STATUSES}


class IndexPageRenderer(renderers.TemplateHTMLRenderer):
    """The index (`/`, `/v1/`) as a page of links, for a person who opened the API's URL."""

    template_name = "browser/index.html"
