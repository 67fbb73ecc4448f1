"""Time personal-data detection and a full ``received`` evaluation on long texts.

Why: the engine runs on whatever customers post, inside the intake's event loop and the
workflow's task; a 60 KB post once blocked both for seconds. This prints, for texts of 4 KB,
16 KB, 60 KB and 1 MB of several shapes (prose and the shapes that made the first patterns
quadratic), the seconds ``find_sensitive`` and the default pack's ``received`` evaluation take.
A size is skipped once a smaller one of the same shape took longer than ``--budget`` seconds.

Run: ``.venv/bin/python bench/long_text_bench.py [--budget SECONDS]``
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project importable without installing
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from careflow.engine.post import Author, Inquiry
from careflow.engine.ruleset import load_ruleset
from careflow.engine.sensitive import find_sensitive

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"4 KB": 4_096, "16 KB": 16_384, "60 KB": 61_440, "1 MB": 1_048_576}
SHAPES = {
    "prose": "my order #12345 is late, please mail ann@example.com or call +44 20 7946 0958. ",
    "a run": "a",
    "dot run": ".",
    "digit run": "1",
    ".-_ mix": ".-_",
    "order + spaces": " ",
}


def make_text(shape: str, size: int) -> str:
    unit = SHAPES[shape]
    text = unit * (size // len(unit))
    return "order" + text[5:] if shape == "order + spaces" else text


def seconds(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=20.0)
    args = parser.parse_args()
    ruleset = load_ruleset(ROOT / "rules" / "default.yaml")

    def evaluate(text: str) -> object:
        author = Author(id="1", handle="ann")
        created = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)
        post = Inquiry(
            id="1", channel="x", kind="public", conversation_id="1", author=author, text=text,
            created_at=created,
        )  # fmt: skip
        return ruleset.evaluate("received", post)

    print(f"{'shape':16} {'size':>6} {'find_sensitive':>15} {'received':>10}")
    for shape in SHAPES:
        over = False
        for label, size in SIZES.items():
            if over:
                print(f"{shape:16} {label:>6} {'skipped':>15} {'skipped':>10}")
                continue
            text = make_text(shape, size)
            detect = seconds(lambda: find_sensitive(text))  # noqa: B023 - called at once
            full = seconds(lambda: evaluate(text))  # noqa: B023
            print(f"{shape:16} {label:>6} {detect:15.4f} {full:10.4f}", flush=True)
            over = max(detect, full) > args.budget


if __name__ == "__main__":
    main()
