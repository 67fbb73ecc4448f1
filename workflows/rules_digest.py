"""The rules text an inquiry runs on must be the text its sha256 names.

The digest is what people compare (``sha256sum rules.yaml``, the report's ``ruleset … sha256``);
the text is what the workflow compiles. Checking one against the other in the workflow means a
history whose rules text was edited (in an export, or on its way in) cannot replay clean, and
an inquiry never acts on rules other than the ones it names.
"""

from __future__ import annotations

import hashlib

# New inquiries (and new runs after continue-as-new) check their rules text against its digest.
RULES_DIGEST_PATCH = "audit-rules-digest"
BYTE_ORDER_MARK = "\ufeff"


class RulesDigestMismatch(Exception):
    """The rules text does not hash to its recorded digest.

    Deliberately not an ApplicationError: the workflow task fails and is retried, so the inquiry
    waits, visibly, instead of acting on rules nobody can name.
    """


def text_digest(text: str) -> str:
    """The sha256 of ``text`` as UTF-8: the bytes of the rule file it was read from."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def matches(text: str, digest: str) -> bool:
    """Whether ``text`` is the rule file ``digest`` names.

    Until the ``audit-rules-digest`` fix, a file starting with a byte-order mark had its digest
    taken over the raw bytes but its text stored without the mark; the mark is a fixed prefix,
    so such text is accepted when the mark put back gives the digest.
    """
    return digest in (text_digest(text), text_digest(BYTE_ORDER_MARK + text))


def mismatch(text: str, digest: str) -> str | None:
    """The sentence saying how ``text`` and ``digest`` disagree, or None when they agree."""
    if matches(text, digest):
        return None
    return f"the rules text hashes to sha256 {text_digest(text)}, not to its recorded {digest}"


def check(text: str, digest: str) -> None:
    """Raise RulesDigestMismatch when ``text`` is not the rule file ``digest`` names."""
    problem = mismatch(text, digest)
    if problem is not None:
        raise RulesDigestMismatch(problem)
