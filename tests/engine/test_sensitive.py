"""Personal data in a public post is spotted so the rules can force the private step."""

from __future__ import annotations

import pytest

from careflow.engine.sensitive import find_sensitive


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("my email is ann.lee+x@example.co.uk", ["email"]),
        ("order #A12345 hasn't arrived", ["order_number"]),
        ("Order number: 1234567 please", ["order_number"]),
        ("#998877 where is it", ["order_number"]),
        ("card 4111 1111 1111 1111 charged twice", ["card_number"]),
        ("call me on +1 (212) 555-0199", ["phone"]),
        (
            "order #55512 to me@x.io, card 4111-1111-1111-1111",
            ["email", "order_number", "card_number"],
        ),
        ("4111 1111 1111 1112 fails the Luhn check", []),
        ("I waited 3 weeks for 2 items", []),
        ("order status please", []),
        ("#blessed #2026", []),
    ],
)
def test_kinds_found(text: str, kinds: list[str]) -> None:
    assert find_sensitive(text) == kinds
