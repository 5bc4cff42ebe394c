from django.test import Client


def csrf_token(client: Client) -> str:
    """The token a page would carry: the value of the client's csrftoken cookie."""
    return client.cookies["csrftoken"].value
