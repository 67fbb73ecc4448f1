"""``GET /health``: whether Temporal answers and a worker polls the task queue
(``careflow.temporal.health``); 200 when both hold, else 503 with what is wrong. Acknowledgements
falling behind are a warning in a 200: a load balancer keeps sending posts in a surge. No token:
a load balancer or uptime check asks it, and the answer holds no customer data."""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from careflow.http.agent import ClientGetter
from careflow.temporal.health import check, unreachable


def health_route(
    task_queue: str, get_client: ClientGetter, ack_target: timedelta | None = None
) -> Route:
    """The route, reaching Temporal with the app's shared client; ``ack_target`` (the rule
    file's internal acknowledgement target) makes a lag beyond it a problem."""

    async def health(request: Request) -> Response:
        """
        summary: Whether Temporal is reachable and workers poll the task queue.
        description: >
          For each task type (workflow, activity) - recent pollers, the latest poll's age and the
          backlog when the server reports it; how many inquiries are unacknowledged, the oldest's
          age, and how long posts wait for a worker (a warning past the internal acknowledgement
          target: still 200, so a load balancer keeps routing posts here). No token needed; no
          customer data.
        responses:
          200: {description: "Healthy", content: {application/json: {schema: {$ref: "#/components/schemas/Health"}}}}
          503: {description: "Temporal unreachable or no worker polling; problems says which", content: {application/json: {schema: {$ref: "#/components/schemas/Health"}}}}
        """
        try:
            client = await get_client()
        except Exception as error:  # the app's Unavailable, or whatever connecting raised
            answer = unreachable(task_queue, str(error) or "cannot connect to Temporal")
        else:
            answer = await check(client, task_queue, ack_target)
        return JSONResponse(answer.model_dump(mode="json"), status_code=200 if answer.ok else 503)

    return Route("/health", health, methods=["GET"])
