"""``careflow fake-platform``: a stand-in X and Meta on localhost, for demos and tests.

Point the platform adapter at it (``CAREFLOW_ADAPTER=platform``,
``CAREFLOW_X_API_BASE=http://127.0.0.1:8090``, ``CAREFLOW_META_GRAPH_BASE=
http://127.0.0.1:8090/v21.0``, ``CAREFLOW_NOTIFY_WEBHOOK_URL=http://127.0.0.1:8090/hooks/care``
and the token in both token variables); ``GET /_fake/posts`` shows what was posted and
``POST /_fake/faults`` makes it misbehave (``careflow.fake_platform``).
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer
import uvicorn

from careflow.cli.common import require_free_port
from careflow.fake_platform import DEFAULT_TOKEN, QuietDrops, fake_platform_app

fake_platform_cli = typer.Typer()


@fake_platform_cli.command("fake-platform")
def fake_platform_command(
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8090,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    token: Annotated[
        list[str] | None,
        typer.Option("--token", help=f"Bearer token it accepts (repeatable; {DEFAULT_TOKEN})."),
    ] = None,
) -> None:
    """Serve a fake X API v2 and Graph API that record every post and inject faults on demand."""
    tokens = tuple(token or [DEFAULT_TOKEN])
    require_free_port(port, host)
    base = f"http://{host}:{port}"
    typer.echo(
        f"fake platform on {base}  X API {base}/2  Graph API {base}/v21.0  "
        f"webhooks {base}/hooks/<name>  posts {base}/_fake/posts  {len(tokens)} token(s)"
    )
    logging.getLogger("uvicorn.error").addFilter(QuietDrops())
    uvicorn.run(fake_platform_app(tokens), host=host, port=port, log_level="warning")
