"""The HTTP connectors' plumbing on its own: scrubbing and decoding what a server sent."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeops._secret import Secret
from tradeops.connectors._http import MAX_DEPTH, MIN_SCRUBBED, BadJson, decode_json, scrub

TOKEN = "tok-" + "x" * 40
Secret(TOKEN, "TEST_TOKEN")
BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+")
# Whitespace as re's \s knows it, ASCII and not, and the words a credential sits among.
PIECES = st.sampled_from(
    [" ", "\t", "\n", "\x0b", "\x1c", "\x85", "\xa0", "\u2003", "\u3000", "bearer", "Bearer",
     "BEARER", "bEaReR", "abc.DEF-123", "=", "/", ":", "x", TOKEN, "tok-", "é"]
)  # fmt: skip


def scrubbed_the_long_way(text: str) -> str:
    for secret in Secret.every():
        if len(secret) >= MIN_SCRUBBED:
            text = text.replace(secret, "***")
    return BEARER.sub(r"\1 ***", text)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(PIECES, st.text(max_size=3)), max_size=12).map("".join))
def test_scrub_takes_out_what_the_whole_search_takes_out(text):
    assert scrub(text) == scrubbed_the_long_way(text)


def test_a_credential_after_any_whitespace_is_scrubbed_and_an_id_is_left_alone():
    for space in (" ", "\t", "\xa0", "\u2003", "\n"):
        assert scrub(f"auth: Bearer{space}abc.DEF") == "auth: Bearer ***"
    assert scrub("12345-ORDER_FILL") == "12345-ORDER_FILL"
    assert scrub(f"id={TOKEN}") == "id=***"


def nested(depth: int, inner: str = "1") -> bytes:
    """`depth` levels, arrays and objects in turn, around `inner`."""
    text = inner
    for level in range(depth):
        text = f"[{text}]" if level % 2 else f'{{"k": {text}, "s": "{{[{{["}}'
    return text.encode()


def test_an_answer_as_deep_as_the_limit_is_read_and_one_level_more_is_refused():
    assert decode_json(nested(MAX_DEPTH)) is not None
    deep = [nested(MAX_DEPTH + 1), nested(900)]
    deep += [b"[" * n + b"]" * n for n in (5_000, 200_000)]  # past Python's recursion limit
    for body in deep:
        with pytest.raises(BadJson, match=f"nests deeper than {MAX_DEPTH} levels"):
            decode_json(body)


def test_brackets_inside_strings_are_no_depth():
    assert decode_json(b'{"a": "[[[[{{{{' + b"[" * 100 + b'", "b": ["]]]"]}') == {
        "a": "[[[[{{{{" + "[" * 100,
        "b": ["]]]"],
    }
