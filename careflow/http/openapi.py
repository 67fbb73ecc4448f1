"""``GET /openapi.json``: the intake's OpenAPI document, its paths read from the routes'
docstrings (Starlette's SchemaGenerator) and its components from the pydantic models."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.schemas import SchemaGenerator

from careflow.engine.post import Inquiry
from careflow.temporal.health import Health


def openapi_base() -> dict[str, Any]:
    """The document's info and the intake's components: the Inquiry and Health schemas (their
    ``$defs`` lifted into components), the intake's answer and the error body."""
    inquiry = Inquiry.model_json_schema(ref_template="#/components/schemas/{model}")
    health = Health.model_json_schema(ref_template="#/components/schemas/{model}")
    definitions = {**inquiry.pop("$defs", {}), **health.pop("$defs", {})}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "careflow webhook intake",
            "version": "1",
            "description": "Signed platform webhooks in, one Temporal workflow per conversation.",
        },
        "components": {
            "schemas": {
                "Inquiry": inquiry,
                **definitions,
                "IntakeAnswer": {
                    "type": "object",
                    "properties": {
                        "received": {"type": "integer"},
                        "started": {"type": "array", "items": {"type": "string"}},
                        "continued": {"type": "array", "items": {"type": "string"}},
                        "duplicates": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "id": {"type": "string"},
                                    "inquiry": {"type": "string"},
                                },
                            },
                            "description": "Redeliveries of posts an inquiry already has",
                        },
                        "brand_posts": {"type": "array", "items": {"type": "string"}},
                        "changed": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "id": {"type": "string"},
                                    "kind": {"type": "string", "enum": ["edit", "withdrawn"]},
                                    "inquiry": {"type": "string"},
                                },
                            },
                            "description": "Customers' edits and unsent messages, each applied "
                            "to the open inquiry that has the message",
                        },
                        "rated": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "id": {"type": "string"},
                                    "inquiry": {"type": "string"},
                                },
                            },
                            "description": "Messenger customers' answers to the customer-feedback "
                            "template, each the rating of their conversation's open inquiry",
                        },
                        "dropped": {"type": "array", "items": {"type": "object"}},
                        "ignored": {"type": "array", "items": {"type": "object"}},
                        "problems": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "id": {"type": ["string", "null"]},
                                    "where": {"type": "string"},
                                    "message": {"type": "string"},
                                },
                            },
                            "description": "Events that could not be read (Meta): each where "
                            "it is in the delivery and what is wrong; the others were taken",
                        },
                        "clamped": {
                            "type": "array",
                            "items": {"type": "object"},
                            "description": "Posts whose created_at was implausible: the time "
                            "received is used instead",
                        },
                    },
                },
                "Health": health,
                "Error": {
                    "type": "object",
                    "properties": {"error": {"type": "string"}},
                    "required": ["error"],
                },
            }
        },
    }


def openapi_route(base: dict[str, Any]) -> Route:
    """The route serving ``base`` plus a path for every route of the app it is mounted in."""
    schemas = SchemaGenerator(base)

    async def openapi(request: Request) -> Response:
        """
        summary: This API's OpenAPI description.
        responses:
          200: {description: "OpenAPI 3 document"}
        """
        # SchemaGenerator.OpenAPIResponse would answer YAML; this route promises JSON.
        return JSONResponse(schemas.get_schema(routes=request.app.routes))

    return Route("/openapi.json", openapi, methods=["GET"], include_in_schema=False)
