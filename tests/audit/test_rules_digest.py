"""The rules digest can be re-derived from the history: the text recorded is exactly the bytes
the digest is over, a byte-order mark included (it was stripped before, so a file saved with one
had a digest nobody could recompute from the history)."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

from activities.rules import load_rules
from tests.harness import careflow, example, round_the_clock_pack
from workflows import rules_digest

BOM = b"\xef\xbb\xbf"


def _bom_pack(tmp_path: Path) -> Path:
    path = round_the_clock_pack(tmp_path)
    path.write_bytes(BOM + path.read_bytes())
    return path


def test_the_recorded_text_of_a_file_with_a_byte_order_mark_hashes_to_its_digest(
    tmp_path: Path,
) -> None:
    path = _bom_pack(tmp_path)
    source = asyncio.run(load_rules(str(path)))
    assert source.digest == hashlib.sha256(path.read_bytes()).hexdigest()  # `sha256sum` agrees
    assert rules_digest.text_digest(source.text) == source.digest
    assert rules_digest.mismatch(source.text.replace("standard", "premium"), source.digest)


def test_histories_recorded_with_the_mark_stripped_still_match() -> None:
    text = "version: 1\n"
    digest = hashlib.sha256(BOM + text.encode()).hexdigest()
    assert rules_digest.matches(text, digest)
    assert not rules_digest.matches(text + " ", digest)


def test_an_inquiry_runs_on_a_rule_file_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = _bom_pack(tmp_path)

    async def scenario() -> None:
        async with careflow(tmp_path, path) as h:
            handle = await h.start(example("warranty", await h.now()))
            status = await h.until(handle, lambda s: "acknowledge" in s.clocks)
            assert status.ruleset["digest"] == hashlib.sha256(path.read_bytes()).hexdigest()
            assert status.category == "warranty"  # the rules compiled and ran

    asyncio.run(scenario())
