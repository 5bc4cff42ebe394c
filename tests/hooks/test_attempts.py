"""What an attempt keeps of the receiver's answer: at most 1 KiB of it, as text, whatever
bytes came."""

import pytest

from hooks.attempts import excerpt


@pytest.mark.parametrize(
    ("body", "kept"),
    [
        (b"", None),
        (b"ok", "ok"),
        (b"x" * 5120, "x" * 1024),
        ("é".encode() * 600, "é" * 512),  # 2 bytes each: 512 of them are 1024 bytes
        (b"a" + "é".encode() * 600, "a" + "é" * 511),  # the character cut at byte 1024 is dropped
        (b"\xff" * 2000, "\ufffd" * 341),  # 3 bytes each once replaced: 341 fit in 1024
        (b'{"error": "bad\xff"}', '{"error": "bad\ufffd"}'),
    ],
)
def test_an_excerpt_is_the_answers_first_1_kib_as_text(body, kept):
    assert excerpt(body) == kept
    if kept is not None:
        assert len(kept.encode()) <= 1024
