"""The rule file the suite runs: every inquiry gets exactly one message, an instant scripted
acknowledgement, so "acknowledged exactly once" is one post per inquiry on the platform.

No privatize step, no notifications, windows hours long: nothing else posts while a scenario
runs, so any second post for an inquiry is a double, not the next step.
"""

from __future__ import annotations

from pathlib import Path

PACK = """\
version: 1
name: reliability
brand: {name: Acme, handle: acme}
windows:
  standard:
    calendar: always
    acknowledge: {internal: 4h, published: 8h}
    resolve: {internal: 8h, published: 24h}
defaults: {category: general, priority: normal, queue: general, windows: standard, privatize: never}
templates:
  ack: "Hi {{ author.name }}, thanks for reaching out: we are on it and will reply here soon."
  follow_up: "Is everything sorted?"
rules:
  - name: instant-ack
    on: received
    do: [{reply: {template: ack}}]
"""

# What an ops engineer's typo looks like: a duration written out in words.
BROKEN = PACK.replace("internal: 4h", "internal: 4 hours")


def write_pack(path: Path, broken: bool = False) -> Path:
    """Write the suite's rule file (or its broken twin) at ``path``, atomically: a worker
    reading it mid-write must see one version or the other."""
    scratch = path.with_suffix(".tmp")
    scratch.write_text(BROKEN if broken else PACK, encoding="utf-8")
    scratch.replace(path)
    return path
