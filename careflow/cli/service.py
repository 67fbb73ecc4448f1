"""``careflow up|worker|setup``: run careflow on one machine, or as services on a cluster.

``up`` is the one-command local service: the embedded Temporal dev server (SQLite under
``$CAREFLOW_HOME``), the worker in this process, optionally the demo feed. Ctrl-C or SIGTERM
stops the worker gracefully (in-flight deliveries finish), then the server.

Private by default: without configured keys, ``up`` makes ``$CAREFLOW_HOME/encryption.key`` on
its first start (every careflow process of that home then uses it) and serves the codec endpoint
its own Web UI decodes with (``local_codec_server``), so the database holds no customer text in
clear unless ``CAREFLOW_ENCRYPTION=off``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from secrets import token_urlsafe
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console
from temporalio.client import Client

from careflow.cli.api import check_tokens
from careflow.cli.common import (
    connection_for,
    customer_key,
    fail,
    leave,
    log_careflow_lines,
    require_free_port,
    settings_from_env,
    with_client,
)
from careflow.cli.inquiries import read_rules
from careflow.devtools.demo import DEMO_PACK, run_demo
from careflow.devtools.fake_platform import DEFAULT_TOKEN, fake_platform_app
from careflow.devtools.fake_webhooks import (
    BRAND_INSTAGRAM_ID,
    BRAND_PAGE_ID,
    BRAND_X_USER_ID,
    Secrets,
)
from careflow.engine.ruleset import Ruleset
from careflow.errors import CareflowError, ConfigurationError
from careflow.http.app import create_app
from careflow.http.codec_server import TokenConfigError, codec_app
from careflow.http.codec_server import check_tokens as check_codec_tokens
from careflow.http.serving import ThreadedServer
from careflow.http.tokens import TokenError, Tokens, parse_file
from careflow.local_state import private_file
from careflow.settings import DEFAULT_GRAPH_VERSION, BrandAccounts, Settings, TemporalSettings
from careflow.temporal.codec import (
    EncryptionCodec,
    KeyConfigError,
    codec_from_settings,
    ensure_local_key,
    local_key_in_use,
)
from careflow.temporal.connection import Connection, connect, encryption_summary
from careflow.temporal.devserver import DevServer
from careflow.temporal.health import warn_without_worker
from careflow.temporal.retention import ensure_retention
from careflow.temporal.search_setup import register_search_attributes
from careflow.temporal.trend_schedule import SCHEDULE_ID, ensure_trend_schedule
from careflow.temporal.worker import channel_adapter, run_worker
from careflow.terminal import console as make_console

service_app = typer.Typer()


def _check_config(settings: Settings) -> tuple[Ruleset, Connection]:
    """A broken rule file or setting is said now, not at the first inquiry: the rules, checked,
    and the process's one ``Connection`` (keys, exporters, TLS files)."""
    ruleset = read_rules(settings.rules)
    try:
        channel_adapter(settings)
    except ConfigurationError as error:
        fail(str(error))
    return ruleset, connection_for(settings)


@service_app.command("worker")
def worker_command() -> None:
    """Run a worker for TEMPORAL_ADDRESS until SIGTERM or Ctrl-C (in-flight work finishes)."""
    log_careflow_lines()
    settings = settings_from_env()
    _, connection = _check_config(settings)

    async def action(client: Client, settings: Settings) -> None:
        try:
            await run_worker(settings, connection, client)
        except ConfigurationError as error:
            raise CareflowError(str(error)) from None

    with_client(action, settings, connection)


@service_app.command("setup")
def setup_command() -> None:
    """Register careflow's search attributes on TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE, set its
    retention to CAREFLOW_RETENTION (or say what it is), and create (or update) the trend
    watch's schedule."""

    async def action(client: Client, settings: Settings) -> int:
        done = await register_search_attributes(client, settings.temporal.namespace)
        where = f"namespace {settings.temporal.namespace} at {settings.temporal.address}"
        if done.added:
            typer.echo(f"registered on {where}: {', '.join(done.added)}")
        if done.present:
            typer.echo(f"already there: {', '.join(done.present)}")
        for conflict in done.conflicts:
            typer.echo(f"error: {conflict}", err=True)
        days = settings.audit.retention_days
        typer.echo(await ensure_retention(client, settings.temporal.namespace, days))
        if done.conflicts:
            return 1
        state = await ensure_trend_schedule(client, settings)
        typer.echo(f"trend watch schedule {SCHEDULE_ID} {state}: every {settings.trend_interval}")
        return 0

    with_client(action)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def intake_server(
    settings: Settings, connection: Connection, ruleset: Ruleset, port: int
) -> ThreadedServer:
    """The webhook intake and agent API in a thread, with its own event loop and client."""

    async def client_factory() -> Client:
        return await connect(connection)

    return ThreadedServer(create_app(settings, client_factory, ruleset), port, "careflow-api")


def with_fake_platform(settings: Settings, port: int) -> Settings:
    """Settings that point the platform adapter and the chat hand-off at the fake platform on
    ``port``, and give the intake webhook secrets (this run's own, unless set) that the fake
    signs customers' posts with."""
    base = f"http://127.0.0.1:{port}"
    platform = settings.platform
    return replace(
        settings,
        platform=replace(
            platform,
            adapter="platform",
            x_api_base=base,
            x_bearer_token=DEFAULT_TOKEN,
            x_refresh_token=None,  # the fake takes its fixed token; a real refresh token stays unspent
            meta_graph_base=f"{base}/{platform.meta_graph_version or DEFAULT_GRAPH_VERSION}",
            meta_page_token=DEFAULT_TOKEN,
            notify_webhook_url=platform.notify_webhook_url or f"{base}/hooks/care",
            notify_webhook_secret=platform.notify_webhook_secret or token_urlsafe(24),
            chat_url=platform.chat_url or f"{base}/chat/sessions",
        ),
        webhooks=replace(
            settings.webhooks,
            x_consumer_secret=settings.webhooks.x_consumer_secret or token_urlsafe(24),
            meta_app_secret=settings.webhooks.meta_app_secret or token_urlsafe(24),
        ),
        brand=BrandAccounts(
            x_user_id=settings.brand.x_user_id or BRAND_X_USER_ID,
            page_id=settings.brand.page_id or BRAND_PAGE_ID,
            instagram_id=settings.brand.instagram_id or BRAND_INSTAGRAM_ID,
        ),
    )


def fake_targets(rulesets: list[Ruleset], base: str) -> None:
    """Notification targets whose ``${VARIABLE}`` is unset post to the fake platform's
    ``/hooks/<target>`` (set in this process's environment, where the worker reads them)."""
    for ruleset in rulesets:
        for name, target in ruleset.rule_file.targets.items():
            if target.webhook.startswith("${"):
                variable = target.webhook[2:-1]
                os.environ.setdefault(variable, f"{base}/hooks/{name}")


def fake_platform_server(settings: Settings, port: int, intake_url: str) -> ThreadedServer:
    secrets = Secrets(settings.webhooks.x_consumer_secret, settings.webhooks.meta_app_secret)
    app = fake_platform_app((DEFAULT_TOKEN,), intake_url=intake_url, secrets=secrets)
    return ThreadedServer(app, port, "careflow-fake-platform")


def local_key(settings: Settings) -> None:
    """Make this home's encryption key on the first start, unless keys are configured or
    encryption is switched off; every careflow process of the home finds it there."""
    path = settings.encryption.local_key
    if not settings.encryption.enabled or settings.encryption.configured or path is None:
        return
    try:
        ensure_local_key(path)
    except OSError as error:
        fail(f"cannot keep the encryption key in {path.parent}: {error.strerror}")


@dataclass(frozen=True)
class CodecServer:
    """The codec endpoint ``careflow up`` gives its Web UI, and the server behind it."""

    server: ThreadedServer
    endpoint: str  # with this run's token in its path: the UI sends no header of its own


def local_codec_server(
    settings: Settings, codec: EncryptionCodec, ui_port: int, port: int
) -> CodecServer:
    """The codec server for ``careflow up``'s own Web UI, on 127.0.0.1.

    The UI decodes from the browser, by ``POST <endpoint>/decode`` with no credential of
    careflow's, so the endpoint carries a token made for this run, in its path; CORS lets the
    UI's origins (localhost and 127.0.0.1 on ``ui_port``) read the answers. That URL is no
    secret on a shared machine: the dev server's command line and the UI's settings show it to
    every local user, and the UI has no login. So the server also answers only the programs of
    the user running careflow, where the system says who owns a connection (Linux); elsewhere,
    anyone who can load the local UI can decode through it, as they could read everything
    without encryption. CAREFLOW_CODEC_TOKENS, if set, are accepted too (for the Temporal CLI's
    ``--codec-auth``).
    """
    run_token = token_urlsafe(24)
    try:
        tokens = check_codec_tokens([run_token, *settings.encryption.codec_tokens])
    except TokenConfigError as error:
        fail(str(error))
    origins = [f"http://localhost:{ui_port}", f"http://127.0.0.1:{ui_port}"]
    app = codec_app(codec, tokens, origins, owner=os.getuid())
    server = ThreadedServer(app, port, "careflow-codec")
    return CodecServer(server, f"{server.url}/{run_token}")


@dataclass(frozen=True)
class Stack:
    """What ``careflow up`` runs: the dev server, the HTTP app, the codec server for the UI
    (when there is a key), the fake platform if asked."""

    server: DevServer
    api: ThreadedServer
    codec: ThreadedServer | None
    fake: ThreadedServer | None
    settings: Settings
    connection: Connection
    tokens: Tokens
    demo: bool


def _banner(console: Console, stack: Stack) -> None:
    server, api, fake, settings = stack.server, stack.api, stack.fake, stack.settings
    tokens, demo = stack.tokens, stack.demo
    console.print("[bold]careflow is up[/]")
    console.print(f"  Temporal gRPC  {server.address}   (TEMPORAL_ADDRESS for other commands)")
    console.print(f"  Web UI         {server.ui_url}")
    console.print(f"  webhooks       {api.url}/webhooks/{{generic,x,meta}}   ({api.url}/docs)")
    console.print(f"  agent API      {api.url}/queue   ({_token_summary(settings, tokens)})")
    console.print(f"  console        {api.url}/   (agents sign in with their API token)")
    for name, role, token in _local_sign_ins(settings):
        console.print(f"    sign in as {name} ({role}): {token}")
    if fake is not None:
        console.print(
            f"  fake platform  {fake.url}/_fake/   (what careflow posted, as JSON at /_fake/posts; customers post "
            f"with POST {fake.url}/_fake/webhooks)"
        )
    else:
        console.print(f"  outbox         {settings.outbox}   (careflow outbox --follow)")
    console.print(f"  rules          {settings.rules}")
    console.print(f"  encryption     {encryption_summary(settings.encryption)}")
    if stack.codec is not None:
        console.print(
            f"  codec server   {stack.codec.url}   (the Web UI decodes payloads here; "
            "for your own programs only)"
        )
    if demo and Path(settings.rules).resolve() != DEMO_PACK:
        console.print(f"  demo rules     {DEMO_PACK}   (the demo's inquiries name it)")
    console.print(
        f"  state          {settings.home / 'temporal.db'}   (inquiries survive a restart)"
    )
    console.print("Ctrl-C stops the worker (in-flight deliveries finish), then the server.")


def _token_summary(settings: Settings, tokens: Tokens) -> str:
    if not tokens:
        return "off: set CAREFLOW_API_TOKENS"
    where = settings.api.tokens_file or "CAREFLOW_API_TOKENS"
    return f"tokens: {tokens.roles()}, from {where}"


def _local_sign_ins(settings: Settings) -> list[tuple[str, str, str]]:
    """The demo's ready-made sign-ins (an agent and a supervisor) from the token file ``up``
    made in this home; none from tokens someone configured (those are not ours to print)."""
    path = settings.home / "api-tokens"
    if settings.api.tokens or settings.api.tokens_file != str(path) or not path.exists():
        return []
    try:
        entries = parse_file(path)
    except TokenError:
        return []
    found: dict[str, tuple[str, str, str]] = {}
    for token, caller in entries:
        if caller.role in ("agent", "supervisor"):
            found.setdefault(caller.role, (caller.name, caller.role, token))
    return list(found.values())


def local_tokens(settings: Settings) -> Settings:
    """For the demo and the fake platform, when no agent API tokens are configured: this home's
    own token file (made once, readable only by its owner): an agent, a supervisor, an auditor."""
    if settings.api.tokens or settings.api.tokens_file:
        return settings
    path = settings.home / "api-tokens"
    if not path.exists():
        lines = [
            "# careflow up made these local agent API tokens; delete the file for new ones",
            f"{token_urlsafe(18)}=agent:Ana",
            f"{token_urlsafe(18)}=supervisor:Sam",
            f"{token_urlsafe(18)}=auditor:Audra",
        ]
        private_file(path).write_text("\n".join(lines) + "\n")
    return replace(settings, api=replace(settings.api, tokens_file=str(path)))


async def _serve(stack: Stack, console: Console) -> None:
    settings, fake = stack.settings, stack.fake
    client = await stack.server.wait_ready(stack.connection)
    # The demo's posts name the demo pack: its trends are the ones to watch then.
    await ensure_trend_schedule(client, settings, str(DEMO_PACK) if stack.demo else None)
    await asyncio.to_thread(stack.api.start)
    if stack.codec is not None:
        await asyncio.to_thread(stack.codec.start)
    if fake is not None:
        await asyncio.to_thread(fake.start)
    _banner(console, stack)
    worker = asyncio.create_task(run_worker(settings, stack.connection, client))
    # Its own worker polls within a second or two; a line if it does not (or polls elsewhere).
    watch = asyncio.create_task(warn_without_worker(client, settings.temporal.task_queue, 15.0))
    platform = fake.url if fake is not None else None
    feed = (
        asyncio.create_task(run_demo(client, settings, console, platform)) if stack.demo else None
    )
    try:
        await worker  # returns once SIGINT/SIGTERM stopped it
    except ConfigurationError as error:
        raise CareflowError(str(error)) from None
    finally:
        signal.signal(signal.SIGTERM, _interrupt)  # run_worker handed SIGTERM back to default
        watch.cancel()
        if feed is not None:
            feed.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feed


@service_app.command("up")
def up_command(
    rules: Annotated[
        str | None, typer.Option("--rules", help="Rule file (default: CAREFLOW_RULES).")
    ] = None,
    temporal_port: Annotated[int, typer.Option("--temporal-port", help="gRPC port.")] = 7233,
    ui_port: Annotated[int, typer.Option("--ui-port", help="Web UI port.")] = 8233,
    api_port: Annotated[
        int, typer.Option("--api-port", help="Webhook intake port (careflow api).")
    ] = 8000,
    demo: Annotated[
        bool, typer.Option("--demo", help="Play a two-minute demo feed once the worker is up.")
    ] = False,
    fake_platform: Annotated[
        bool,
        typer.Option(
            "--fake-platform",
            help="Post to a local fake X and Meta (careflow fake-platform) instead of the outbox.",
        ),
    ] = False,
    fake_port: Annotated[int, typer.Option("--fake-port", help="Fake platform port.")] = 8090,
    codec_port: Annotated[
        int, typer.Option("--codec-port", help="Port of the codec server the Web UI decodes with.")
    ] = 8234,
) -> None:
    """Temporal dev server, worker and webhook intake in one command; state under $CAREFLOW_HOME."""
    with contextlib.suppress(AttributeError, ValueError):
        sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    log_careflow_lines()
    env = settings_from_env(temporal_profile=False)  # its own server: no TLS, no API key
    settings = replace(
        env,
        temporal=TemporalSettings(
            address=f"127.0.0.1:{temporal_port}", task_queue=env.temporal.task_queue
        ),
        rules=rules or env.rules,
    )
    encryption = settings.encryption
    decodes = encryption.enabled or encryption.configured or local_key_in_use(encryption)
    for port, flag, what in (
        (temporal_port, "--temporal-port", "Temporal gRPC"),
        (ui_port, "--ui-port", "Web UI"),
        (api_port, "--api-port", "webhook intake"),
        *([(codec_port, "--codec-port", "codec server")] if decodes else []),
        *([(fake_port, "--fake-port", "fake platform")] if fake_platform else []),
    ):
        require_free_port(port, "127.0.0.1", flag, what)
    local_key(settings)
    customer_key(settings)  # CareCustomer's hash key: made in the home unless configured
    try:
        codec = codec_from_settings(encryption)
    except KeyConfigError as error:
        fail(str(error))
    if fake_platform:
        settings = with_fake_platform(settings, fake_port)
    if demo or fake_platform:
        settings = local_tokens(settings)
    if demo:  # the demo prints every post and reply itself; one log line each would be noise
        logging.getLogger("careflow.http.webhooks").setLevel(logging.WARNING)
    ruleset, connection = _check_config(settings)
    tokens = check_tokens(settings)  # a bad entry is said now, with where it is
    rulesets = [ruleset]
    if demo:
        rulesets.append(read_rules(str(DEMO_PACK)))  # in the source tree, next to the examples
    if fake_platform:
        fake_targets(rulesets, f"http://127.0.0.1:{fake_port}")
    api = intake_server(settings, connection, ruleset, api_port)
    fake = fake_platform_server(settings, fake_port, api.url) if fake_platform else None
    ui_codec = None if codec is None else local_codec_server(settings, codec, ui_port, codec_port)
    console = make_console()
    signal.signal(signal.SIGTERM, _interrupt)  # so that `finally` stops the server
    try:
        server = DevServer.start(
            settings.home,
            temporal_port,
            ui_port,
            codec_endpoint=None if ui_codec is None else ui_codec.endpoint,
        )
    except CareflowError as error:
        fail(str(error))
    code = 0
    codec_server = None if ui_codec is None else ui_codec.server
    try:
        stack = Stack(server, api, codec_server, fake, settings, connection, tokens, demo)
        asyncio.run(_serve(stack, console))
    except KeyboardInterrupt:
        pass
    except CareflowError as error:
        typer.echo(f"error: {error}", err=True)
        code = 1
    finally:
        api.stop()
        if codec_server is not None:
            codec_server.stop()
        if fake is not None:
            fake.stop()
        console.print("stopping the Temporal server…")
        server.stop()
    console.print("stopped")
    leave(code)
