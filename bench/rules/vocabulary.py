"""The words customers use, shared by the generated pack and the synthetic inquiries.

Why one module: rules and inquiries must draw on the same vocabulary, or few rules would fire.
"""

from __future__ import annotations

# Every phrase starts and ends with a word character and uses only [a-z0-9' -], so careflow's
# whole-word regex (?<!\w)...(?!\w) is exactly \b...\b, which zen's Rust regex can express.


def _phrases(text: str) -> tuple[str, ...]:
    """A vocabulary written as ``a|b c|d``: compact to read, one phrase per alternative."""
    return tuple(text.split("|"))


# topic (= category) -> (queue, phrases customers use for it)
TOPICS: dict[str, tuple[str, tuple[str, ...]]] = {
    "late_delivery": (
        "logistics",
        _phrases(
            "late|hasn't arrived|not delivered|still waiting|tracking|delayed|where is my order"
            "|courier|shipment|missed delivery|lost parcel|dispatch"
        ),
    ),
    "returns": (
        "returns",
        _phrases(
            "return|returns|refund|money back|send it back|exchange|return label|restocking fee"
            "|wrong size|changed my mind"
        ),
    ),
    "warranty": (
        "product",
        _phrases(
            "warranty|broken|defective|faulty|stopped working|repair|cracked|won't turn on"
            "|replacement|guarantee"
        ),
    ),
    "billing": (
        "billing",
        _phrases(
            "charged twice|double charged|overcharged|invoice|billing|payment failed|receipt"
            "|unauthorized charge|card declined|chargeback"
        ),
    ),
    "gift_cards": (
        "gift_cards",
        _phrases("gift card|voucher|redeem|e-gift|promo code|coupon|store credit|balance"),
    ),
    "account": (
        "accounts",
        _phrases(
            "password|log in|login|locked out|my account|reset|two-factor|verification code"
            "|username|sign in"
        ),
    ),
    "subscription": (
        "subscriptions",
        _phrases(
            "subscription|renewal|auto-renew|membership|cancel my plan|monthly fee|free trial"
            "|unsubscribe"
        ),
    ),
    "app": (
        "digital",
        _phrases("app|crash|crashes|bug|glitch|error message|checkout|website|page won't load"),
    ),
    "store": (
        "retail",
        _phrases("store|cashier|staff|long queue|manager|rude employee|opening hours|parking"),
    ),
    "product": (
        "presales",
        _phrases(
            "in stock|restock|availability|ingredients|how to use|compatible|dimensions|colour"
        ),
    ),
}
TOPIC_WEIGHTS = {
    "late_delivery": 20,
    "returns": 14,
    "warranty": 12,
    "billing": 10,
    "gift_cards": 6,
    "account": 9,
    "subscription": 6,
    "app": 9,
    "store": 6,
    "product": 8,
}
LEGAL = _phrases(
    "lawyer|attorney|lawsuit|journalist|reporter|going viral|consumer rights|ombudsman"
)
ANGER = _phrases("unacceptable|terrible|worst|disgusting|furious|ridiculous|joke|scam")
PRAISE = _phrases("thanks|thank you|love|amazing|awesome|well done|best service")
SPAM_EARLY = _phrases("giveaway|follow back|follow for follow|dm for promo|free crypto")
SPAM_LATE = _phrases("check my bio|click my link|earn money fast|crypto signals")
_FILLER_TEXT = """
i my me the a an is was and but to it this that you your please help hi hello today yesterday
week just really why what when can someone item bought got need want know about for with from on
at have has been no yes so very also again any how long ago ordered last they we our us
there here now one two three after before could would should did does do get up out if or as
be all still more some tried told said call called email emailed chat team customer service
guys anyone seriously honestly literally another thing since monday friday weekend morning
"""
SPECIAL_WORDS = frozenset(
    w for phrase in (*LEGAL, *ANGER, *PRAISE) for w in phrase.split() if " " not in phrase
)
KEYWORDS = frozenset(p for _, vocab in TOPICS.values() for p in vocab if " " not in p)
FILLER = tuple(w for w in _FILLER_TEXT.split() if w not in KEYWORDS | SPECIAL_WORDS)

# `matches` patterns: realistic shapes, free of nested quantifiers (careflow rejects those), valid
# in both Python's re and Rust's regex (zen), and without double quotes.
REGEX_FAMILIES: tuple[tuple[str, dict[str, str], tuple[str, ...]], ...] = (
    (r"(?i)\bwhere is my (order|package|parcel)\b", {"category": "late_delivery"}, ()),
    (r"(?i)\border\s*#?\s*\d{5,}", {"privatize": "required"}, ("has-order-number",)),
    (r"#\d{5,}", {}, ("has-order-number",)),
    (r"\b[A-Z]{2}\d{6,9}\b", {"queue": "logistics"}, ("tracking-code",)),
    (r"(?i)\b\d+\s+(days|weeks)\b", {}, ("waiting-long",)),
    (r"!{2,}", {}, ("upset",)),
    (r"\b[A-Z]{4,}\b", {}, ("shouting",)),
    (r"(?i)\b(cancel|cancelled|canceled|cancelling)\b", {"category": "cancellation"}, ()),
    (r"(?i)https?://\S+", {}, ("has-link",)),
    (r"\?\s*$", {}, ("question",)),
    (r"(?i)\b(still|again)\s+(waiting|broken|charged)\b", {"priority": "high"}, ("repeat",)),
    (r"(?i)\b(never|not)\s+(again|buying|coming back)\b", {}, ("churn-risk",)),
)
