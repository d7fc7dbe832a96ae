"""Reading request headers from the ASGI scope: the first value of each name counts, as
with `header`, also when two are read in one pass."""

from __future__ import annotations

from typing import Any

from yc_chat.entrypoints.http.keys import header, headers


def _scope(*pairs: tuple[bytes, bytes]) -> Any:
    return {"headers": list(pairs)}


def test_two_headers_in_one_pass_are_each_the_first_value() -> None:
    scope = _scope(
        (b"x-webhook-id", b"id-1"),
        (b"x-signature", b"first"),
        (b"x-signature", b"second"),
        (b"x-webhook-id", b"id-2"),
    )
    assert headers(scope, b"x-signature", b"x-webhook-id") == ("first", "id-1")
    assert headers(scope, b"x-webhook-id", b"x-signature") == ("id-1", "first")
    assert header(scope, b"x-signature") == "first"


def test_an_absent_header_is_none_and_values_are_latin_1() -> None:
    scope = _scope((b"content-length", b"12"), (b"x-name", "café".encode("latin-1")))
    assert headers(scope, b"content-length", b"transfer-encoding") == ("12", None)
    assert headers(scope, b"transfer-encoding", b"x-name") == (None, "café")
    assert headers({}, b"a", b"b") == (None, None)
