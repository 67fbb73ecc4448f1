"""Run the ``careflow`` command as an auditor does, beside a worker in the same event loop."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

CAREFLOW = Path(sys.executable).parent / "careflow"


async def careflow(
    address: str, home: Path, *args: str, env_vars: dict[str, str | None] | None = None
) -> tuple[int, str, str]:
    """Run the CLI without blocking the worker that shares this event loop; ``env_vars`` sets
    (or, with None, removes) environment variables for it."""
    env = {**os.environ, "TEMPORAL_ADDRESS": address, "CAREFLOW_HOME": str(home)}
    for name, value in (env_vars or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    process = await asyncio.create_subprocess_exec(
        str(CAREFLOW),
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def payload_text(path: Path) -> str:
    """Every clear JSON payload of an exported history, decoded, as one string."""
    found: list[Any] = []

    def keep(value: Any) -> Any:
        found.append(value)
        return value

    copy = path.with_name(path.name + ".read")
    copy.write_text(path.read_text())
    edit_payloads(copy, keep)
    copy.unlink()
    return json.dumps(found)


def edit_payloads(path: Path, edit: Callable[[Any], Any]) -> None:
    """Rewrite every clear JSON payload in an exported history through ``edit`` — what someone
    altering an export with a text editor and base64 would do."""

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            encoding = node.get("metadata", {}).get("encoding")
            if encoding == base64.b64encode(b"json/plain").decode() and "data" in node:
                value = json.loads(base64.b64decode(node["data"]))
                node["data"] = base64.b64encode(json.dumps(edit(value)).encode()).decode()
                return
            for item in node.values():
                walk(item)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    data = json.loads(path.read_text())
    walk(data)
    path.write_text(json.dumps(data, indent=1))


def replaced(old: str, new: str) -> Callable[[Any], Any]:
    """An edit that replaces ``old`` with ``new`` in every string of a payload."""

    def edit(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace(old, new)
        if isinstance(value, dict):
            return {key: edit(item) for key, item in value.items()}
        if isinstance(value, list):
            return [edit(item) for item in value]
        return value

    return edit
