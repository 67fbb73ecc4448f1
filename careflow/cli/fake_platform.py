"""``careflow fake-platform``: a stand-in X and Meta on localhost, for demos and tests.

Point the platform adapter at it (``CAREFLOW_ADAPTER=platform``,
``CAREFLOW_X_API_BASE=http://127.0.0.1:8090``, ``CAREFLOW_META_GRAPH_BASE=
http://127.0.0.1:8090/v21.0``, ``CAREFLOW_NOTIFY_WEBHOOK_URL=http://127.0.0.1:8090/hooks/care``
and the token in both token variables); ``GET /_fake/posts`` shows what was posted and
``POST /_fake/faults`` makes it misbehave (``careflow.devtools.fake_platform``). With ``--intake URL``,
``POST /_fake/webhooks`` plays a customer: the post goes to careflow's intake as the platform's
signed webhook (``careflow.devtools.fake_webhooks``), signed with CAREFLOW_X_CONSUMER_SECRET and
CAREFLOW_META_APP_SECRET.
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer
import uvicorn

from careflow.cli.common import require_free_port, settings_from_env
from careflow.devtools.fake_platform import DEFAULT_TOKEN, fake_platform_app
from careflow.devtools.fake_webhooks import Secrets
from careflow.http.serving import QuietDrops

fake_platform_cli = typer.Typer()


@fake_platform_cli.command("fake-platform")
def fake_platform_command(
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8090,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    token: Annotated[
        list[str] | None,
        typer.Option("--token", help=f"Bearer token it accepts (repeatable; {DEFAULT_TOKEN})."),
    ] = None,
    intake: Annotated[
        str | None,
        typer.Option(
            "--intake", help="careflow's intake (e.g. http://127.0.0.1:8000): customers post there."
        ),
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
    settings = settings_from_env(temporal_profile=False)  # it never connects to Temporal
    secrets = Secrets(settings.webhooks.x_consumer_secret, settings.webhooks.meta_app_secret)
    if intake:
        typer.echo(f"customers' posts: POST {base}/_fake/webhooks → {intake}/webhooks/{{x,meta}}")
    logging.getLogger("uvicorn.error").addFilter(QuietDrops())
    app = fake_platform_app(tokens, intake_url=intake, secrets=secrets)
    uvicorn.run(app, host=host, port=port, log_level="warning")
