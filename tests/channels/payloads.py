"""Platform payloads as the platforms send them, shared by the normalizer tests here and the
HTTP intake tests (tests/http/test_webhook_intake.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

BRAND_X = "9990001"
PAGE = "5550001"
IG_ACCOUNT = "17841400000000001"


def x_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%a %b %d %H:%M:%S +0000 %Y")


def tweet(tweet_id: str, user_id: str, handle: str, text: str, at: datetime, **extra: Any) -> Any:
    return {
        "created_at": x_time(at),
        "id": int(tweet_id),
        "id_str": tweet_id,
        "text": text,
        "user": {
            "id": int(user_id),
            "id_str": user_id,
            "name": handle.title(),
            "screen_name": handle,
            "followers_count": 250,
            "verified": False,
        },
        **extra,
    }


def x_delivery(at: datetime) -> dict[str, Any]:
    """A mention, the brand's own reply (an echo), a DM and a like, as Account Activity sends."""
    millis = str(int(at.timestamp() * 1000))
    return {
        "for_user_id": BRAND_X,
        "tweet_create_events": [
            tweet("1870000000000000001", "41001", "maya_r", "@acme my parcel is late", at),
            tweet(
                "1870000000000000002",
                BRAND_X,
                "acme",
                "@maya_r sorry, checking now",
                at,
                in_reply_to_status_id_str="1870000000000000001",
            ),
        ],
        "direct_message_events": [
            {
                "type": "message_create",
                "id": "1870000000000000003",
                "created_timestamp": millis,
                "message_create": {
                    "target": {"recipient_id": BRAND_X},
                    "sender_id": "41002",
                    "message_data": {"text": "hi, can I change my delivery address?"},
                },
            }
        ],
        "users": {
            "41002": {"id": "41002", "screen_name": "tom_k", "name": "Tom K", "followers_count": 9},
            BRAND_X: {"id": BRAND_X, "screen_name": "acme", "name": "Acme"},
        },
        "favorite_events": [{"id": "fav-1"}],
    }


def meta_page_delivery(at: datetime) -> dict[str, Any]:
    """A Page feed comment, a like, a Messenger message and the Page's own echo."""
    seconds, millis = int(at.timestamp()), int(at.timestamp() * 1000)
    return {
        "object": "page",
        "entry": [
            {
                "id": PAGE,
                "time": millis,
                "changes": [
                    {
                        "field": "feed",
                        "value": {
                            "from": {"id": "61001", "name": "Lena Fischer"},
                            "item": "comment",
                            "verb": "add",
                            "post_id": f"{PAGE}_700",
                            "comment_id": "700_801",
                            "parent_id": f"{PAGE}_700",
                            "message": "my order never arrived",
                            "created_time": seconds,
                        },
                    },
                    {
                        "field": "feed",
                        "value": {"item": "reaction", "verb": "add", "post_id": f"{PAGE}_700"},
                    },
                ],
                "messaging": [
                    {
                        "sender": {"id": "62001"},
                        "recipient": {"id": PAGE},
                        "timestamp": millis,
                        "message": {"mid": "m_62001_1", "text": "is the store open on Sunday?"},
                    },
                    {
                        "sender": {"id": PAGE},
                        "recipient": {"id": "62001"},
                        "timestamp": millis,
                        "message": {"mid": "m_echo_1", "text": "Yes!", "is_echo": True},
                    },
                ],
            }
        ],
    }


def instagram_delivery(at: datetime) -> dict[str, Any]:
    return {
        "object": "instagram",
        "entry": [
            {
                "id": IG_ACCOUNT,
                "time": int(at.timestamp()),
                "changes": [
                    {
                        "field": "comments",
                        "value": {
                            "id": "17900000000000001",
                            "from": {"id": "63001", "username": "kai.designs"},
                            "text": "the zipper broke after a week",
                            "media": {"id": "18000000000000001", "media_product_type": "FEED"},
                        },
                    }
                ],
            }
        ],
    }
