"""``make run`` prints the console's ready-made sign-ins: the tokens ``careflow up`` made for
this home, never tokens someone configured."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from careflow.cli.service import _local_sign_ins, local_tokens
from careflow.settings import ApiTokenSettings, Settings


def test_the_demo_prints_an_agent_and_a_supervisor_to_sign_in_as(tmp_path: Path) -> None:
    settings = local_tokens(Settings(home=tmp_path))
    signed = _local_sign_ins(settings)
    assert [(name, role) for name, role, _ in signed] == [("Ana", "agent"), ("Sam", "supervisor")]
    assert all(token in (tmp_path / "api-tokens").read_text() for _, _, token in signed)


def test_configured_tokens_are_never_printed(tmp_path: Path) -> None:
    settings = replace(Settings(home=tmp_path), api=ApiTokenSettings(tokens="s3cret=agent:Ana"))
    assert _local_sign_ins(local_tokens(settings)) == []
