"""The customer-facing text of published hours and response windows, ready for a profile bio."""

from __future__ import annotations

from careflow.engine.durations import humanize_duration, parse_duration
from careflow.engine.ruleset import Ruleset

BIO_LIMIT = 160  # X's profile bio; Instagram allows 150, Facebook's intro 101 — shown, not enforced


def _zone_label(timezone: str) -> str:
    return timezone.rsplit("/", 1)[-1].replace("_", " ") + " time"


def describe_policy(ruleset: Ruleset, policy_name: str, *, with_holidays: bool = True) -> str:
    """One sentence: when the team is there and how fast it answers, for one windows policy."""
    policy = ruleset.policy(policy_name)
    calendar = ruleset.calendars[policy.calendar]
    window = humanize_duration(parse_duration(policy.acknowledge.published))
    if policy.calendar == "always":
        return f"we reply within {window}, around the clock."
    hours = calendar.describe_hours()
    zone = _zone_label(calendar.timezone)
    holidays = calendar.describe_holidays() if with_holidays else ""
    closed = f"; {holidays}" if holidays else ""
    return f"we're here {hours} ({zone}){closed}. We reply within {window} during these hours."


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def hours_text(ruleset: Ruleset) -> str:
    """The published hours of every windows policy, the default first, and a short bio line."""
    brand = ruleset.rule_file.brand.name or ruleset.name
    default = ruleset.defaults.windows
    lines = [f"{brand} — customer care hours and response times", ""]
    lines.append(_sentence(describe_policy(ruleset, default)))
    for name in ruleset.rule_file.windows:
        if name != default:
            lines.append(f"{_sentence(name)} cases: {describe_policy(ruleset, name)}")
    bio = _sentence(describe_policy(ruleset, default, with_holidays=False))
    lines += ["", f"Profile bio ({len(bio)}/{BIO_LIMIT} characters):", bio]
    if len(bio) > BIO_LIMIT:
        lines.append(f"(too long for an X bio by {len(bio) - BIO_LIMIT} characters)")
    return "\n".join(lines)
