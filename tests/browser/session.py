from django.test import Client


def csrf_token(client: Client) -> str:
    """The token a page would carry: the value of the client's csrftoken cookie."""
    return client.cookies["csrftoken"].value


def error(response) -> tuple[int, dict]:
    """The status and the error envelope's body, to compare with one assertion."""
    return response.status_code, response.json()["error"]
