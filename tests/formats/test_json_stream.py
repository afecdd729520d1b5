"""The streamed JSON writer prints exactly what ``json.dumps`` prints."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from backchannel.formats.json_stream import json_chunks, write_json

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=30,
)


@given(VALUES, st.sampled_from([0, 1, 2, 4]), st.booleans())
def test_the_pieces_join_to_json_dumps(value: Any, indent: int, ascii_only: bool) -> None:
    expected = json.dumps(value, indent=indent, ensure_ascii=ascii_only)
    assert "".join(json_chunks(value, indent=indent, ensure_ascii=ascii_only)) == expected


class Counting:
    """A streamed array of the numbers 0..n-1 (the protocol, not a list)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def json_chunks(self, level: int, step: str, ensure_ascii: bool) -> Iterator[str]:
        yield json.dumps(list(range(self.n)), indent=len(step)).replace("\n", "\n" + step * level)


@given(st.integers(0, 5), st.integers(0, 3))
def test_a_streamed_value_is_asked_for_its_own_pieces(n: int, depth: int) -> None:
    value: Any = Counting(n)
    plain: Any = list(range(n))
    for _ in range(depth):
        value, plain = {"k": [value]}, {"k": [plain]}
    out = io.StringIO()
    write_json(value, out)
    assert out.getvalue() == json.dumps(plain, indent=2) + "\n"


def test_non_string_keys_are_written_as_json_dumps_writes_them() -> None:
    value = {1: "a", False: "b", None: "c", 2.5: "d"}
    assert "".join(json_chunks(value)) == json.dumps(value, indent=2)
