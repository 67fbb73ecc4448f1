"""`careflow rules check` reports every problem at the line and column where it was written."""

from __future__ import annotations

import pytest

from careflow.engine.checker import check_text
from tests.conftest import MINIMAL, ROOT, SKETCH_FILE, dedent


def problems(text: str) -> list[str]:
    """The check output lines for YAML ``text`` labelled ``r.yaml``."""
    return [str(p) for p in check_text(dedent(text), "r.yaml").problems]


def with_rules(rules_yaml: str, extra: str = "") -> str:
    """The minimal valid file with ``rules:`` replaced (rules start on line 8)."""
    return MINIMAL.replace("rules: []\n", extra + "rules:\n" + dedent(rules_yaml))


def test_the_design_sketch_is_valid() -> None:
    assert problems(SKETCH_FILE.read_text()) == []


def test_the_shipped_sketch_is_the_design_sketch() -> None:
    """rules/examples/acme-retail.yaml is DESIGN.md's sketch, save its schema path and a comment."""
    design = ROOT.parent / "shared" / "DESIGN.md"
    if not design.exists():
        pytest.skip("shared/DESIGN.md is not beside this checkout")
    sketch = design.read_text().split("```yaml\n")[1].split("```")[0]
    shipped = [line for line in SKETCH_FILE.read_text().splitlines() if not line.startswith("#")]
    assert shipped == [line for line in sketch.splitlines() if not line.startswith("#")]


def test_minimal_file_is_valid() -> None:
    assert problems(MINIMAL) == []


def test_yaml_syntax_error_has_position() -> None:
    assert problems("version: 1\nname: [oops\n") == [
        "r.yaml:3:1: YAML syntax error: while parsing a flow sequence: expected ',' or ']', "
        "but got '<stream end>'"
    ]


def test_empty_file() -> None:
    assert problems("") == [
        "r.yaml:1:1: the file is empty: a rule file needs version, name, windows, defaults and rules"
    ]


def test_binary_junk_is_one_clear_line() -> None:
    result = check_text(b"version: 1\n\xff\xfe\x00garbage", "r.yaml")
    assert [str(p) for p in result.problems] == [
        "r.yaml:2:1: not a UTF-8 text file (invalid byte sequence)"
    ]


def test_duplicate_key() -> None:
    assert problems("version: 1\nversion: 1\n") == ["r.yaml:2:1: duplicate key 'version'"]


def test_unknown_top_level_key_with_hint_and_all_problems_at_once() -> None:
    text = MINIMAL.replace("rules: []", "rulez: []\ntemplats: {}")
    assert problems(text) == [
        "r.yaml:1:1: missing required key 'rules'",
        "r.yaml:8:1: unknown key 'rulez' (did you mean 'rules'?)",
        "r.yaml:9:1: unknown key 'templats' (did you mean 'templates'?)",
    ]


def test_unknown_rule_key_field_operator_and_event() -> None:
    text = with_rules(
        """\
        - name: one
          on: recieved
          whenn: {text: late}
          do: [{tag: x}]
        - name: two
          on: received
          when: {textt: late, author.followers: {gtee: 5}}
          do: [{tag: x}]
        """
    )
    assert problems(text) == [
        "r.yaml:10:7: 'recieved' is not allowed here (did you mean 'received'?); use one of: "
        "received, customer.message, agent.message, window.warning, window.internal, "
        "window.published, privatize.reminder, privatize.given_up, resolved, reopened, "
        "follow_up.reply, follow_up.rating, follow_up.silent, closed",
        "r.yaml:11:3: unknown key 'whenn' (did you mean 'when'?)",
        "r.yaml:15:10: unknown field 'textt' (did you mean 'text'?)",
        "r.yaml:15:42: operator 'gtee' does not apply to author.followers (did you mean 'gte'?); "
        "use one of: eq, ne, in, not_in, gt, gte, lt, lte, exists",
    ]


def test_value_types_that_cannot_compare() -> None:
    text = with_rules(
        """\
        - name: one
          on: received
          when: {author.followers: {gte: lots}, text: {gt: 3}, author.verified: "yes"}
          do: [{tag: x}]
        """
    )
    assert problems(text) == [
        "r.yaml:11:34: expected number, got text 'lots'",
        "r.yaml:11:48: operator 'gt' does not apply to text; "
        "use one of: eq, ne, in, not_in, contains, contains_any, matches, exists",
        "r.yaml:11:73: expected boolean, got text 'yes'",
    ]


def test_references_resolve_with_hints() -> None:
    text = MINIMAL.replace("defaults: {windows: standard", "defaults: {windows: standrd").replace(
        "rules: []",
        dedent(
            """\
            targets: {supervisors: {webhook: "${SUP_URL}"}}
            rules:
              - name: one
                on: received
                do: [{notify: supervisers}, {reply: {template: akc}}, {set: {windows: urgnt}}]
            """
        ),
    )
    assert problems(text) == [
        "r.yaml:5:21: unknown windows policy 'standrd' (did you mean 'standard'?)",
        "r.yaml:12:19: unknown notification target 'supervisers' (did you mean 'supervisors'?); "
        "define it under targets",
        "r.yaml:12:52: unknown template 'akc'; define it under templates",
        "r.yaml:12:75: unknown windows policy 'urgnt'",
    ]


def test_unknown_calendar_and_internal_after_published() -> None:
    text = MINIMAL.replace(
        "standard: {acknowledge: {internal: 30m, published: 1h}",
        "standard: {calendar: care-hours, acknowledge: {internal: 2h, published: 1h}",
    )
    assert problems(text) == [
        "r.yaml:4:24: unknown calendar 'care-hours'",
        "r.yaml:4:60: internal target 2h is longer than the published window 1h: "
        "the team's target must come first",
    ]


def test_bad_durations_and_names() -> None:
    text = MINIMAL.replace("internal: 30m", "internal: 30 minutes").replace(
        "published: 24h", "published: 0h"
    )
    assert problems(text) == [
        "r.yaml:4:38: '30 minutes' is not a duration: use a number and a unit s, m, h or d, "
        "e.g. 45s, 30m, 4h, 2d",
        "r.yaml:4:101: '0h' is not a duration: use a number and a unit s, m, h or d, "
        "e.g. 45s, 30m, 4h, 2d",
    ]


def test_calendar_problems_point_into_the_calendar() -> None:
    text = MINIMAL.replace(
        "windows:\n",
        dedent(
            """\
            calendars:
              care: {timezone: America/NewYork, hours: {mon-fri: "09:00-17:00"}}
              desk: {timezone: UTC, hours: {tues: "09:00-17:00"}}
              late: {timezone: UTC, hours: {mon: "9-17"}}
            windows:
            """
        ),
    )
    lines = problems(text)
    assert lines[0].startswith("r.yaml:4:20: unknown time zone 'America/NewYork'")
    assert "did you mean 'America/New_York'?" in lines[0]
    assert lines[1] == "r.yaml:5:33: unknown day 'tues' (did you mean 'tue'?)"
    assert lines[2] == "r.yaml:6:38: invalid time range '9-17': use HH:MM-HH:MM, e.g. 08:00-20:00"
    assert len(lines) == 3


def test_duplicate_rule_names_and_dangerous_regex() -> None:
    text = with_rules(
        """\
        - name: same
          on: received
          when: {text: {matches: "(a+)+$"}}
          do: [{tag: x}]
        - name: same
          on: received
          when: {text: {matches: "[unclosed"}}
          do: [{tag: x}]
        """
    )
    assert problems(text) == [
        "r.yaml:11:26: nested quantifiers (a repeated group containing a variable repeat, like "
        "(a+)+) can take exponential time on some texts; rewrite the pattern",
        "r.yaml:13:9: duplicate rule name 'same' (first used on line 9)",
        "r.yaml:15:26: invalid regular expression: unterminated character set at position 0",
    ]


def test_field_not_available_on_event_and_drop_outside_received() -> None:
    text = with_rules(
        """\
        - name: one
          on: received
          when: {message.text: {contains: broken}}
          do: [{tag: x}]
        - name: two
          on: customer.message
          do: [{drop: spam}]
        """
    )
    assert problems(text) == [
        "r.yaml:11:10: field 'message.text' has no value on received (it is set on "
        "agent.message, customer.message, follow_up.rating, follow_up.reply)",
        "r.yaml:15:9: drop only works on the received event (it stops a post before it starts)",
    ]


def test_template_problems_name_the_line_inside_the_template() -> None:
    text = MINIMAL.replace(
        'follow_up: "Is everything sorted?"',
        'follow_up: "Hi {{ autor.name }}"\n  ack: |\n    Hello\n    {{ author.nmae }}\n  bad: "{{ oops"',
    )
    assert problems(text) == [
        "r.yaml:7:14: template 'follow_up': unknown template variable 'autor' "
        "(did you mean 'author'?); use inquiry, author, agent, brand, window",
        "r.yaml:10:5: template 'ack': author has no attribute 'nmae' (did you mean 'name'?); "
        "it has id, handle, name, followers, verified",
        "r.yaml:11:8: template 'bad': template syntax error: unexpected end of template, "
        "expected 'end of print statement'.",
    ]


def test_blank_phrase_is_rejected_not_a_match_everything() -> None:
    text = with_rules(
        """\
        - name: one
          on: received
          when: {text: {contains: " "}}
          do: [{drop: spam}]
        """
    )
    assert problems(text) == ["r.yaml:11:27: ' ' is blank: give a word or phrase"]


def test_missing_follow_up_template() -> None:
    text = MINIMAL.replace('  follow_up: "Is everything sorted?"\n', '  other: "x"\n')
    assert problems(text) == [
        "r.yaml:6:1: unknown template 'follow_up'; define it under templates",
    ]


def test_action_with_two_keys() -> None:
    text = with_rules(
        """\
        - name: one
          on: received
          do: [{tag: x, drop: spam}]
        """
    )
    assert problems(text) == [
        "r.yaml:11:8: an action has exactly one key, found tag, drop: write each action as its own "
        "list item"
    ]


def test_yaml_1_1_surprises_do_not_happen() -> None:
    """`on:` stays a key, dates and times stay text."""
    text = with_rules(
        """\
        - name: one
          on: received
          when: {text: 10:30}
          do: [{tag: 2026-12-25}]
        """
    )
    assert problems(text) == []


def test_a_broken_rule_does_not_hide_problems_elsewhere() -> None:
    text = with_rules(
        """\
        - name: broken
          on: recieved
          do: [{tag: x}]
        - name: fine-structure
          on: received
          do: [{reply: {template: nope}}]
        """
    )
    assert problems(text) == [
        "r.yaml:10:7: 'recieved' is not allowed here (did you mean 'received'?); use one of: "
        "received, customer.message, agent.message, window.warning, window.internal, "
        "window.published, privatize.reminder, privatize.given_up, resolved, reopened, "
        "follow_up.reply, follow_up.rating, follow_up.silent, closed",
        "r.yaml:14:27: unknown template 'nope'; define it under templates",
    ]


def test_reason_codes_are_names_listed_once_per_known_action() -> None:
    text = MINIMAL.replace(
        "rules: []",
        "reasons:\n"
        "  resolve: [refunded, replaced, refunded]\n"
        "  reopen: [not fixed]\n"
        "  escalate: []\n"
        "  asign: [x]\n"
        "rules: []",
    )
    assert problems(text) == [
        "r.yaml:9:33: 'refunded' is listed twice",
        "r.yaml:10:12: 'not fixed' is not a valid name: use letters, digits, '_', '.' and '-', "
        "starting with a letter or digit",
        "r.yaml:11:13: must not be empty",
        "r.yaml:12:3: unknown key 'asign' (did you mean 'assign'?)",
    ]
    good = MINIMAL.replace(
        "rules: []", "reasons: {resolve: [refunded], reopen: [not_fixed]}\nrules: []"
    )
    assert problems(good) == []
