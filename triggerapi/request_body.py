"""Reading a request body within a bound, however it was framed.

Django reads exactly Content-Length bytes, so a body sent with `Transfer-Encoding: chunked`
(which has no Content-Length) reads as empty. Where the WSGI server has already undone the
chunking (gunicorn says so with `wsgi.input_terminated`), its input stream is read here, at
most one byte past the endpoint's limit; where it has not (Django's development server), the
stream would run into the next request, so the answer is 411 rather than a wrong "empty"."""

from rest_framework.exceptions import UnsupportedMediaType

from triggerapi.exceptions import LengthRequired, PayloadTooLarge

READ_SIZE = 64 * 1024


def declared_length(request) -> int | None:
    """Content-Length, or None for a chunked body (no length until it has been read)."""
    meta = request.META
    if not meta.get("CONTENT_LENGTH") and "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower():
        return None
    try:
        return max(int(meta.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def refuse_content_encoding(request) -> None:
    """A compressed body is refused rather than decoded: decoding would need its own bound
    on the inflated size (a small gzip body can inflate to gigabytes)."""
    encodings = [e.strip().lower() for e in request.META.get("HTTP_CONTENT_ENCODING", "").split(",")]
    refused = [e for e in encodings if e not in ("", "identity")]
    if refused:
        raise UnsupportedMediaType(
            request.content_type or "(none)",
            detail=f"Content-Encoding {', '.join(refused)} is not supported; send the body uncompressed.",
        )


def read_chunked(request, *, max_bytes: int) -> bytes:
    """The whole de-chunked body, or 413 if it is longer than `max_bytes`; never buffers
    more than `max_bytes` + 1 bytes. 411 where the server has not de-chunked it."""
    if not request.META.get("wsgi.input_terminated"):
        raise LengthRequired()
    body = _read_at_most(request.META["wsgi.input"], max_bytes + 1)
    if len(body) > max_bytes:
        raise PayloadTooLarge(f"The request body is more than {max_bytes} bytes, the limit.")
    return body


def _read_at_most(stream, limit: int) -> bytes:
    chunks: list[bytes] = []
    left = limit
    while left > 0:
        chunk = stream.read(min(left, READ_SIZE))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
