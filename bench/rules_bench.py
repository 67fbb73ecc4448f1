"""Benchmark careflow's rule evaluation against hand-written Python, rule-engine and zen-engine.

Why: careflow runs every rule of a pack on every post of the firehose, so evaluation speed is a
product requirement. This script generates one realistic 100-rule pack and 100,000 synthetic
inquiries (both seeded, so every run measures the same work), proves that all four
implementations reach exactly the same decisions, then times them in one run so the ratios are
comparable. The project's aims (careflow within 2x of hand-written Python, at least 30x faster
than rule-engine) are printed next to the figures, never asserted: timing is too noisy to fail on.

This script checks agreement, times and reports; ``bench/rules/`` holds the parts it measures:
the vocabulary, the pack (as data and as careflow's rule file), the baselines and the inquiries.

Run: ``.venv/bin/python bench/rules_bench.py [--quick] [--inquiries N] [--rules N] [--show-pack] [--show-code]``
"""

from __future__ import annotations

import argparse
import functools
import gc
import sys
import time
from collections.abc import Callable, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the project importable without installing
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.rules.baselines import (
    Outcome,
    careflow_outcome,
    hand_written,
    library_steps,
    loop_evaluator,
)
from bench.rules.inquiries import make_inquiries
from bench.rules.pack import PackGenerator
from bench.rules.rulefile import EVENT, PACK_FILE, pack_yaml
from careflow.engine.post import Inquiry
from careflow.engine.ruleset import RuleFileError, ruleset_from_text

Evaluator = Callable[[Inquiry], Any]

# --------------------------------------------------------------------------- timing


def timed_run(evaluate: Evaluator, inquiries: Sequence[Inquiry]) -> float:
    """Seconds to evaluate every inquiry once; GC paused as timeit does, to cut noise."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        for inquiry in inquiries:
            evaluate(inquiry)
        return time.perf_counter() - start
    finally:
        gc.enable()


def check_agreement(
    engines: dict[str, Evaluator], inquiries: Sequence[Inquiry]
) -> tuple[dict[str, list[Outcome]], dict[str, float]]:
    """Every engine's outcomes on the sample, and its seconds per inquiry (to size prefixes)."""
    outcomes: dict[str, list[Outcome]] = {}
    per_inquiry: dict[str, float] = {}
    for name, evaluate in engines.items():
        gc.collect()
        gc.disable()  # as in timed_run, so the speed estimate matches the timed runs
        try:
            start = time.perf_counter()
            results = [evaluate(inquiry) for inquiry in inquiries]
            per_inquiry[name] = (time.perf_counter() - start) / max(1, len(inquiries))
        finally:
            gc.enable()
        if name in ("careflow", NO_WHY):
            results = [careflow_outcome(d) for d in results]
        outcomes[name] = results
    reference = outcomes["careflow"]
    for name, results in outcomes.items():
        for index, (want, got) in enumerate(zip(reference, results, strict=True)):
            if want != got:
                raise AssertionError(
                    f"{name} disagrees with careflow on inquiry {index} "
                    f"({inquiries[index].text!r}):\n  careflow: {want}\n  {name}: {got}"
                )
    return outcomes, per_inquiry


NO_WHY = "careflow-no-why"  # like for like: the baselines compute no explanations either
FAST = ("careflow", NO_WHY, "hand-written")  # timed over every inquiry unless --cap says so


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command line; --quick is a smoke run, the defaults are the real benchmark."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--inquiries", type=int, default=100_000, help="inquiries to time")
    parser.add_argument("--rules", type=int, default=100, help="rules in the generated pack")
    parser.add_argument("--quick", action="store_true", help="10,000 inquiries, 1 repeat (smoke)")
    parser.add_argument("--repeats", type=int, default=3, help="best of this many runs")
    parser.add_argument("--check", type=int, default=2000, help="inquiries in the agreement check")
    parser.add_argument("--seed", type=int, default=2026, help="seed for pack and inquiries")
    parser.add_argument(
        "--budget",
        type=float,
        default=5.0,
        help="seconds per repeat for rule-engine and zen-engine (sizes their prefix)",
    )
    parser.add_argument(
        "--cap",
        type=float,
        default=11.0,
        help="at most this many seconds per repeat for careflow and hand-written: a slower "
        "full pass times the largest prefix that fits (keeps a default run under 3 minutes); "
        "0 times every inquiry",
    )
    parser.add_argument("--show-pack", action="store_true", help="print the generated rule file")
    parser.add_argument("--show-code", action="store_true", help="print the hand-written code")
    args = parser.parse_args(argv)
    if args.quick:
        args.inquiries, args.repeats, args.budget = 10_000, 1, 2.0
    return args


def code_excerpt(source: str, regexes: int = 5, body: int = 24) -> str:
    """About 30 lines of the generated module: a few regexes, then the start of ``evaluate``."""
    lines = source.splitlines()
    compiled = [line for line in lines if line.startswith("_rx")]
    start = lines.index("def evaluate(inquiry):")
    rest = len(lines) - start - body
    return "\n".join(
        [
            "import re",
            *compiled[:regexes],
            f"# ... {len(compiled) - regexes} more compiled regexes",
            "",
            *lines[start : start + body],
            f"    # ... {rest} more lines",
        ]
    )


def prefix_sizes(
    per_inquiry: dict[str, float], total: int, budget: float, cap: float
) -> dict[str, int]:
    """How many inquiries each engine evaluates per repeat, from its speed in the check."""
    sizes: dict[str, int] = {}
    for name, seconds in per_inquiry.items():
        if name in FAST:
            fits = total if cap <= 0 else int(cap / max(seconds, 1e-9))
            sizes[name] = max(min(1000, total), min(total, fits))
        else:
            sizes[name] = max(min(100, total), min(total, int(budget / max(seconds, 1e-9))))
    return sizes


def report(
    rates: dict[str, float], sizes: dict[str, int], total: int, per_inquiry: dict[str, float]
) -> None:
    """The table of evaluations per second, ratios to careflow, and the project's aims."""
    base = rates["careflow"]
    print(f"{'engine':<16}{'inquiries':>11}{'evals/s':>12}{'us/eval':>10}   ratio")
    for name, rate in rates.items():
        if name == "careflow":
            ratio = "1.00x (reference)"
        elif rate >= base:
            ratio = f"{name} {rate / base:.2f}x careflow"
        else:
            ratio = f"careflow {base / rate:.1f}x {name}"
        print(f"{name:<16}{sizes[name]:>11,}{rate:>12,.0f}{1e6 / rate:>10.1f}   {ratio}")
    for name in FAST:
        if sizes[name] < total:
            print(
                f"note: {name} timed on the first {sizes[name]:,} of {total:,} inquiries per "
                f"repeat: a full pass would take ~{per_inquiry[name] * total:.0f} s, over --cap"
            )
    print()
    for name in ("careflow", NO_WHY):
        hand = rates["hand-written"] / rates[name]
        library = rates[name] / rates["rule-engine"]
        within = f"{hand:.2f}x slower" if hand >= 1 else f"{1 / hand:.1f}x faster"
        print(f"aim: {name} within 2x of hand-written Python: {within} -> " + _met(hand <= 2))
        print(
            f"aim: {name} at least 30x faster than rule-engine: {library:.1f}x -> "
            + _met(library >= 30)
        )


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main(argv: Sequence[str] | None = None) -> int:
    """Generate, check, verify agreement, time, report."""
    args = parse_args(argv)
    began = time.perf_counter()

    rules = PackGenerator(args.seed).generate(args.rules)
    text = pack_yaml(rules, args.seed)
    if args.show_pack:
        print(f"=== generated pack {PACK_FILE} ({len(rules)} rules) ===")
        print(text, end="")
        print("=== end of pack ===\n")
    try:
        ruleset = ruleset_from_text(text, PACK_FILE)
    except RuleFileError as error:
        print("generator bug: the pack fails `careflow rules check`:", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(f"careflow accepted the pack (sha256 {ruleset.digest[:12]})")

    hand, source = hand_written(rules)
    if args.show_code:
        print("\n=== hand-written Python (excerpt) ===")
        print(code_excerpt(source))
        print("=== end of excerpt ===\n")

    start = time.perf_counter()
    inquiries = make_inquiries(max(args.inquiries, args.check), args.seed + 1)
    print(f"generated {len(inquiries):,} inquiries in {time.perf_counter() - start:.1f} s")

    engines: dict[str, Evaluator] = {
        "careflow": functools.partial(ruleset.evaluate, EVENT),
        NO_WHY: functools.partial(ruleset.evaluate, EVENT, explain=False),
        "hand-written": hand,
        "rule-engine": loop_evaluator(library_steps(rules, "rule-engine")),
        "zen-engine": loop_evaluator(library_steps(rules, "zen")),
    }
    print(
        "careflow: Ruleset.evaluate -> Decision (with why and actions); careflow-no-why: the "
        "same with explain=False (what the baselines compute); hand-written: "
        f"{source.count(chr(10))} lines of generated straight-line Python; rule-engine "
        f"{version('rule-engine')}: one Rule per rule (=~~ is re.search); zen-engine "
        f"{version('zen-engine')}: one compile_expression per rule (matches() is Rust regex); "
        "both libraries run inside the same Python loop for set/tag/drop/stop"
    )

    sample = inquiries[: args.check]
    outcomes, per_inquiry = check_agreement(engines, sample)
    reference = outcomes["careflow"]
    fired = sum(len(o[8]) for o in reference) / len(reference)
    dropped = sum(o[0] for o in reference) / len(reference)
    stop_rules = {rule.name for rule in rules if rule.stop}
    stopped = sum(1 for o in reference if o[8] and o[8][-1] in stop_rules)
    print(
        f"agreement: {len(sample):,}/{len(sample):,} inquiries identical (fired lists, drop, "
        f"category, priority, queue, windows, privatize, tags) across {', '.join(engines)}"
    )
    print(
        f"pack profile on that sample: {fired:.2f} rules fired per inquiry, "
        f"{dropped:.1%} dropped, {stopped / len(reference):.1%} ended by stop: true"
    )

    timed = inquiries[: args.inquiries]
    sizes = prefix_sizes(per_inquiry, len(timed), args.budget, args.cap)
    best: dict[str, float] = dict.fromkeys(engines, float("inf"))
    names = list(engines)
    for repeat in range(args.repeats):
        order = names[repeat % len(names) :] + names[: repeat % len(names)]
        for name in order:
            seconds = timed_run(engines[name], timed[: sizes[name]])
            best[name] = min(best[name], seconds / sizes[name])
        print(f"repeat {repeat + 1}/{args.repeats} done ({time.perf_counter() - began:.0f} s)")

    print(
        f"\n{len(rules)} rules on '{EVENT}', best of {args.repeats} interleaved repeat(s), "
        "time.perf_counter, GC paused during runs"
    )
    report({name: 1.0 / best[name] for name in engines}, sizes, len(timed), per_inquiry)
    print(f"total {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
