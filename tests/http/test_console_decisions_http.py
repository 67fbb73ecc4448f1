"""The console's proactive and review pages without a browser or Temporal: who may open and
post them, their CSRF checks, and a score that is not a number, all refused before Temporal is
asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from careflow.http.console.reviews import BadForm, scores_of
from careflow.http.console.session import COOKIE
from tests.http.test_console_session import app

TOKENS = "tok-ana=agent:Ana,tok-sam=supervisor:Sam,tok-rita=reviewer:Rita,tok-audra=auditor:Audra"
HERE = {"Origin": "http://console.test"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "text/html"}


def test_each_role_is_let_in_or_told_why_not(tmp_path: Path) -> None:
    console = app(tmp_path, TOKENS)
    for token, path in [
        ("tok-ana", "/supervisor/proactive"),
        ("tok-rita", "/supervisor/proactive"),
        ("tok-audra", "/supervisor/proactive"),
        ("tok-audra", "/reviews"),
        ("tok-audra", "/reviews/inquiry-x-1"),
    ]:
        answer = console.get(path, headers=bearer(token))
        assert answer.status_code == 403 and 'role="alert"' in answer.text, (token, path)
    refused = console.post("/supervisor/proactive/p-1/approve", headers=bearer("tok-ana"))
    assert refused.status_code == 403 and "may not decide proactive posts" in refused.text
    refused = console.post("/reviews/inquiry-x-1/score", headers=bearer("tok-ana"))
    assert refused.status_code == 403 and "may not score reviews" in refused.text
    refused = console.post("/reviews/inquiry-x-1/settle", headers=bearer("tok-rita"))
    assert refused.status_code == 403 and "may not settle reviews" in refused.text
    # Those let in reach Temporal (away in this test, and the page says so).
    for token, path in [
        ("tok-sam", "/supervisor/proactive"),
        ("tok-rita", "/reviews"),
        ("tok-ana", "/reviews"),
    ]:
        answer = console.get(path, headers=bearer(token))
        assert answer.status_code == 503 and "no Temporal in this test" in answer.text
    assert (
        console.post("/supervisor/proactive/p-1/explode", headers=bearer("tok-sam")).status_code
        == 404
    )
    assert (
        console.post("/reviews/inquiry-x-1/explode", headers=bearer("tok-sam")).status_code == 404
    )


def test_a_signed_in_decision_needs_the_csrf_token_and_this_site(tmp_path: Path) -> None:
    console = app(tmp_path, TOKENS)
    signed = console.post("/signin", data={"token": "tok-rita"}, headers=HERE)
    assert signed.status_code == 303 and signed.headers["location"] == "/reviews"
    cookie = {"Cookie": f"{COOKIE}={signed.cookies[COOKIE]}"}
    without = console.post("/reviews/inquiry-x-1/score", data={}, headers={**cookie, **HERE})
    assert without.status_code == 403 and "CSRF" in without.text
    elsewhere = console.post(
        "/reviews/inquiry-x-1/score", data={}, headers={**cookie, "Origin": "http://evil.example"}
    )
    assert elsewhere.status_code == 403 and "not sent from the console" in elsewhere.text


def test_scores_are_whole_numbers_and_blanks_are_left_out() -> None:
    fields = {"csrf": "x", "score-empathy": "4", "score-tone": "", "note": "ok"}
    assert scores_of(fields) == {"empathy": 4}
    with pytest.raises(BadForm, match="tone: 'three' is not a whole number"):
        scores_of({"score-tone": "three"})
