"""``careflow codec-server``: the Temporal Web UI and CLI decode careflow's encrypted payloads here.

It refuses to start without encryption keys (nothing to decode) or without
``CAREFLOW_CODEC_TOKENS`` (decrypted customer data is never served to anyone who asks).
"""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from careflow.cli.common import fail, log_careflow_lines, require_free_port, settings_from_env
from careflow.http.codec_server import TokenConfigError, check_tokens, codec_app
from careflow.temporal.codec import (
    FILE_VARIABLE,
    KEYS_VARIABLE,
    KeyConfigError,
    codec_from_settings,
)

codec_cli = typer.Typer()
UI_ORIGIN = "http://localhost:8233"


def _origins(given: list[str] | None) -> list[str]:
    origins = [origin.rstrip("/") for origin in given or [UI_ORIGIN]]
    for origin in origins:
        if not origin.startswith(("http://", "https://")) or "/" in origin.split("://", 1)[1]:
            fail(
                f"--origin {origin!r} is not an origin: use scheme://host[:port], e.g. {UI_ORIGIN}"
            )
    return origins


@codec_cli.command("codec-server")
def codec_server_command(
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8081,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (0.0.0.0 for every interface).")
    ] = "127.0.0.1",
    origin: Annotated[
        list[str] | None,
        typer.Option("--origin", help=f"Web UI origin allowed by CORS (repeatable; {UI_ORIGIN})."),
    ] = None,
) -> None:
    """Serve /encode and /decode for the Temporal UI and CLI, to holders of CAREFLOW_CODEC_TOKENS."""
    origins = _origins(origin)
    settings = settings_from_env(temporal_profile=False)  # it never connects to Temporal
    try:
        codec = codec_from_settings(settings.encryption)
        if codec is None:
            fail(f"no encryption keys: set {KEYS_VARIABLE} or {FILE_VARIABLE} (docs/encryption.md)")
        tokens = check_tokens(settings.encryption.codec_tokens)
    except (KeyConfigError, TokenConfigError) as error:
        fail(str(error))
    require_free_port(port, host)
    log_careflow_lines()
    typer.echo(
        f"codec server on http://{host}:{port}  keys {', '.join(codec.key_ids)}  "
        f"{len(tokens)} token(s)  CORS for {', '.join(origins)}",
    )
    # No access log: the Web UI's requests carry the token in their path.
    uvicorn.run(
        codec_app(codec, tokens, origins),
        host=host,
        port=port,
        access_log=False,
        log_level="warning",
    )
