"""How much a ``deliver`` activity's input weighs, and how much of it is the customer's, before
and since the ``privacy-deliver-variables`` patch (a template gets only what it reads).

Not a timing: the bytes each history records per message sent, for the default rules'
templates on a typical post (the ``question`` example) and on a long one (a 4 KB post), as
ratios against the input built the old way in the same run.

    python -m bench.deliver_input_bench
"""

from __future__ import annotations

from pathlib import Path

from activities.types import RulesSource
from careflow.engine.post import Inquiry
from careflow.engine.ruleset import load_ruleset
from workflows import outbound
from workflows.outbound import Send
from workflows.state import InquiryState, ValuesState

ROOT = Path(__file__).resolve().parents[1]
PACK = ROOT / "rules" / "default.yaml"
EXAMPLE = ROOT / "examples" / "inquiries" / "question.json"
TEMPLATES = ("ack", "dm_invite", "follow_up", "high_reach_alert")


def state_of(inquiry: Inquiry) -> InquiryState:
    rules = load_ruleset(PACK)
    source = RulesSource(file=str(PACK), name="default", digest=rules.digest, text="")
    return InquiryState(inquiry=inquiry, rules=source, values=ValuesState.of(rules.defaults))


def sizes(inquiry: Inquiry, template: str) -> tuple[int, int, bool, bool]:
    """Bytes of the input the old way and the new, and whether each holds the post's text."""
    rules, state = load_ruleset(PACK), state_of(inquiry)
    send = Send("reply", "rule:bench", template_name=template)
    built = {
        lean: outbound.build(send, "k/acknowledge/1", state, rules, lean=lean).model_dump_json()
        for lean in (False, True)
    }
    return (
        len(built[False].encode()),
        len(built[True].encode()),
        inquiry.text in built[False],
        inquiry.text in built[True],
    )


def main() -> None:
    typical = Inquiry.model_validate_json(EXAMPLE.read_text())
    long_post = typical.model_copy(update={"text": "my boots " * 455})  # about 4 KB
    print(f"{'post':<10} {'template':<17} {'before':>7} {'since':>7} {'ratio':>6}  post text in")
    for label, inquiry in (("typical", typical), ("4 KB post", long_post)):
        for template in TEMPLATES:
            before, since, had, has = sizes(inquiry, template)
            held = f"{'yes' if had else 'no'} -> {'yes' if has else 'no'}"
            print(
                f"{label:<10} {template:<17} {before:>6}B {since:>6}B {since / before:>6.2f}  {held}"
            )


if __name__ == "__main__":
    main()
