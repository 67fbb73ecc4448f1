"""Texts cut to a platform's length, for the adapters: the engine's functions, shared with the
workflow's reply validator (which may not import the adapters)."""

from __future__ import annotations

from careflow.engine.text_parts import HTTP_URL, X_DM_LIMIT, X_TEXT_LIMIT, split_text, x_length

__all__ = ["HTTP_URL", "X_DM_LIMIT", "X_TEXT_LIMIT", "split_text", "x_length"]
