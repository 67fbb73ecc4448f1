"""Templates are sandboxed: customer text is data, never template code."""

from __future__ import annotations

import pytest

from careflow.engine.templates import TemplateRenderError, check_template, render_template


def test_customer_text_is_not_evaluated() -> None:
    text = render_template("You said: {{ inquiry.text }}", {"inquiry": {"text": "{{ 7 * 7 }}"}})
    assert text == "You said: {{ 7 * 7 }}"


def test_sandbox_blocks_python_internals() -> None:
    with pytest.raises(TemplateRenderError, match="unsafe"):
        render_template("{{ author.__class__.__mro__ }}", {"author": {}})


def test_missing_values_render_blank_and_unknown_ones_fail() -> None:
    assert render_template("url: {{ inquiry.url }}.", {"inquiry": {"url": None}}) == "url: ."
    with pytest.raises(TemplateRenderError):
        render_template("{{ author.name }}", {})


def test_check_allows_loops_over_known_variables() -> None:
    assert check_template("{% for tag in inquiry.tags %}#{{ tag }} {% endfor %}") == []
    assert check_template("{{ window.resolve.published_due }} {{ agent.name | upper }}") == []
