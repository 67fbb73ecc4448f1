"""Checks every scenario ends with: no secret in any process's log, every listening socket of
every process the suite started on 127.0.0.1 (Linux: read from /proc)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from bench.reliability.processes import Child
from bench.reliability.stack import Stack

LOOPBACK = {"0100007F", "00000000000000000000000001000000", "0000000000000000FFFF00000100007F"}
LISTEN = "0A"


def secrets_in_logs(stack: Stack) -> list[str]:
    """``name in log`` for each secret found in a log under the stack's folder."""
    found = []
    logs = sorted(stack.root.glob("*.log")) + sorted(stack.home.glob("*.log"))
    for log in logs:
        text = log.read_text(encoding="utf-8", errors="replace")
        found += [
            f"{name} in {log.name}"
            for name, value in stack.secrets.values().items()
            if value in text
        ]
    return found


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    return inodes


def _group(pgid: int) -> list[int]:
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                members.append(int(stat.parent.name))
    return members


def _listening() -> dict[str, str]:
    """Listening TCP sockets: inode → local address (hex, as /proc/net/tcp{,6} has it)."""
    found = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == LISTEN:
                    found[fields[9]] = fields[1]
    return found


def listeners(children: list[Child]) -> list[tuple[str, str, int]]:
    """(process, address in hex, port) of every listening TCP socket of the children."""
    if not Path("/proc/net/tcp").exists():
        return []
    listening = _listening()
    found = []
    for child in children:
        if not child.running():
            continue
        for pid in _group(child.pid):
            for inode in _socket_inodes(pid):
                local = listening.get(inode)
                if local is not None:
                    address, port = local.split(":")
                    found.append((child.name, address, int(port, 16)))
    return sorted(set(found))


def check(stack: Stack) -> list[str]:
    """Every hygiene problem of a running stack, as sentences (none if Linux's /proc shows no
    listener at all: then nothing could be checked, which is a problem too)."""
    problems = [f"secret {where}" for where in secrets_in_logs(stack)]
    found = listeners(stack.children)
    if Path("/proc/net/tcp").exists() and not found:
        problems.append("no listening socket found: the listener check saw nothing")
    problems += [
        f"{name} listens on {address}:{port} (not 127.0.0.1)"
        for name, address, port in found
        if address not in LOOPBACK
    ]
    return problems
