"""X's length counting and numbered parts (careflow/engine/text_parts.py), by example."""

from __future__ import annotations

from careflow.engine.text_parts import split_text, x_length
from tests.activities.adapters.support import unnumbered, words


def test_x_length_counts_urls_as_23_and_wide_characters_as_2() -> None:
    assert x_length("hello") == 5
    assert x_length("see https://example.com/" + "a" * 200) == 4 + 23
    assert x_length("see https://example.com/a.") == 4 + 23 + 1  # the full stop is not the URL's
    assert x_length("acme.com/returns") == 23  # X links bare domains too
    assert x_length("日本") == 4
    assert x_length("ok 👍") == 5


def test_split_text_cuts_a_word_only_when_it_is_longer_than_a_part() -> None:
    parts = split_text("short " + "y" * 600 + " end", 280)
    assert [len(p) <= 280 for p in parts] == [True] * len(parts)
    assert parts[0] == "short (1/4)"
    assert "".join(unnumbered(p) for p in parts[1:3]) + unnumbered(parts[3]).split(" ")[0] == (
        "y" * 600
    )
    assert split_text("fits", 280) == ["fits"]
    many = split_text(words(400), 100)
    assert len(many) >= 10 and many[-1].endswith(f"({len(many)}/{len(many)})")
    assert all(len(p) <= 100 for p in many)
