"""Synthetic inquiries: seeded, so every run evaluates the same posts.

Why realistic: casing, filler, reach and the mix of topics decide how many rules fire, and so
what the benchmark measures.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bench.rules.vocabulary import (
    ANGER,
    FILLER,
    LEGAL,
    PRAISE,
    SPAM_EARLY,
    SPAM_LATE,
    TOPIC_WEIGHTS,
    TOPICS,
)
from careflow.engine.post import Author, Inquiry


def styled(rng: random.Random, phrase: str) -> str:
    """Customers' casing: mostly lowercase, sometimes Capitalised or SHOUTED."""
    roll = rng.random()
    if roll < 0.10:
        return phrase.capitalize()
    if roll < 0.16:
        return phrase.upper()
    return phrase


def make_text(rng: random.Random, handle: str, channel: str) -> str:
    """5-40 words of filler with topic phrases, escalation words, numbers and spam mixed in."""
    inserts: list[str] = []
    topics = rng.choices(list(TOPIC_WEIGHTS), weights=list(TOPIC_WEIGHTS.values()), k=3)
    for topic in topics[: rng.choices([0, 1, 2, 3], weights=[22, 48, 24, 6])[0]]:
        inserts.append(rng.choice(TOPICS[topic][1]))
    extras: tuple[tuple[float, Callable[[], str]], ...] = (
        (0.045, lambda: rng.choice(SPAM_EARLY)),
        (0.015, lambda: rng.choice(SPAM_LATE)),
        (0.04, lambda: rng.choice(LEGAL)),
        (0.10, lambda: rng.choice(ANGER)),
        (0.08, lambda: rng.choice(PRAISE)),
        (0.05, lambda: f"order #{rng.randint(10000, 9999999)}"),
        (0.03, lambda: f"#{rng.randint(10000, 999999)}"),
        (0.03, lambda: f"{rng.choice(['AB', 'ZX', 'QT'])}{rng.randint(100000, 99999999)}"),
        (0.02, lambda: f"https://acme.example/o/{rng.randint(1, 99999)}"),
        (0.05, lambda: f"{rng.randint(2, 14)} {rng.choice(['days', 'weeks'])}"),
        (0.03, lambda: f"{rng.choice(['still', 'again'])} {rng.choice(['waiting', 'broken'])}"),
        (0.02, lambda: f"{rng.choice(['never', 'not'])} {rng.choice(['again', 'buying'])}"),
        (0.02, lambda: rng.choice(["cancel", "cancelled", "cancelling"])),
        (0.02, lambda: f"where is my {rng.choice(['package', 'parcel'])}"),
    )
    for probability, make in extras:
        if rng.random() < probability:
            inserts.append(make())
    inserted_words = sum(len(p.split()) for p in inserts)
    # 5-40 words, skewed short as social posts are (median ~14 words).
    count = max(2, 5 + int(36 * rng.random() ** 2) - inserted_words)
    words = [rng.choice(FILLER) for _ in range(count)]
    for i, word in enumerate(words):
        if rng.random() < 0.05:
            words[i] = word + ","
    for phrase in inserts:
        words.insert(rng.randint(0, len(words)), styled(rng, phrase))
    words[0] = words[0][:1].upper() + words[0][1:]
    endings = [".", "", "!", "?", "!!", "!!!", " ?"]
    text = " ".join(words) + rng.choices(endings, weights=[35, 25, 15, 12, 6, 3, 4])[0]
    if channel == "x" and rng.random() < 0.02:
        text = f"RT @{handle}_fan: {text}"
    return text


def make_inquiries(count: int, seed: int) -> list[Inquiry]:
    """Deterministic inquiries: channel/kind mix, heavy-tailed reach, some unknown reach."""
    rng = random.Random(seed)
    start = datetime(2026, 11, 17, 8, 0, tzinfo=UTC)
    inquiries: list[Inquiry] = []
    for i in range(count):
        channel = rng.choices(["x", "facebook", "instagram"], weights=[45, 30, 25])[0]
        kind = "public" if rng.random() < 0.7 else "private"
        followers: int | None = None
        if rng.random() >= 0.08:  # Pareto tail: median ~35, ~5% above 1000, ~0.8% above 10000
            followers = min(50_000_000, int(25 * rng.paretovariate(0.8)) - 25)
        verified = rng.random() < (0.3 if followers is not None and followers > 50_000 else 0.02)
        handle = f"user{i}"
        author = Author(
            id=f"a{i}",
            handle=handle,
            name=f"User {i}" if rng.random() < 0.8 else None,
            followers=followers,
            verified=verified,
        )
        inquiries.append(
            Inquiry(
                id=f"p{i}",
                channel=channel,
                kind=kind,
                conversation_id=f"c{i}",
                author=author,
                text=make_text(rng, handle, channel),
                created_at=start + timedelta(seconds=17 * i),
                url=f"https://{channel}.example/p/{i}",
            )
        )
    return inquiries
