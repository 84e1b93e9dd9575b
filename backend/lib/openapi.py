"""The OpenAPI document says what the server does, decided once here rather than on every handler.

Litestar generates the paths and schemas from the handlers' signatures; `OpenAPIContract` (a plugin)
then rewrites the generated document from facts it reads off each route:

- every refusal is a `ProblemDetails` (RFC 9457 with our `code`) served as `application/problem+json`,
  and each operation lists the refusals it can give: 400 everywhere; 401 where a token is required;
  403 where a role guard stands or a signed-in write is made; 404 where the path or a written body
  names something; 409 on writes; 413 where a body is read; 429 with `Retry-After` on the routes the
  abuse limits count (`rate_limits.LIMITED_ROUTES`) and on event streams (capped per account). A
  handler that can refuse in another way says so with Litestar's own `raises=[...]` (e.g. a public
  login's 401); that too becomes a problem;
- `security` is on the operations that require a token, and only on them (public routes are those
  whose `opt` excludes them from auth, as the auth middleware decides);
- `lang` is the enum of the languages we serve (`i18n.LANGS`), wherever it appears;
- a msgspec Struct that refuses unknown fields (`forbid_unknown_fields=True`) is
  `additionalProperties: false`, found by walking each request body's type beside its schema.

The rewrite runs when the document is first rendered (`to_schema()`), so it sees every route.

The documentation pages (`render_plugins`, `schema_ui_routes`) load nothing from outside the app.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import msgspec
from litestar import Router
from litestar.config.app import AppConfig
from litestar.datastructures import CacheControlHeader
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import OpenAPIRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import OpenAPI
from litestar.plugins import InitPlugin, ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute
from litestar.static_files import create_static_files_router

from backend.lib.auth import PUBLIC
from backend.lib.i18n import LANGS
from backend.lib.problems import PROBLEM_TYPE_BASE
from backend.lib.rate_limits import limit_of

log = logging.getLogger("changxiang")

PROBLEM_MEDIA = "application/problem+json"
PROBLEM_REF = "#/components/schemas/ProblemDetails"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BEARER = "BearerToken"
COOKIE = "CookieToken"

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "ProblemDetails",
    "description": (
        "RFC 9457 problem details. `code` is stable and documented in docs/errors.md; a refusal about "
        "one field also carries `field` and `errors`."
    ),
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "description": f"{PROBLEM_TYPE_BASE}<code>"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
        "field": {"type": ["string", "null"]},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": ["string", "null"]},
                    "source": {"type": ["string", "null"]},
                    "message": {"type": ["string", "null"]},
                },
            },
        },
        "retry_after": {"type": "integer", "minimum": 0},
    },
    "additionalProperties": True,
}

DESCRIPTIONS = {
    400: "Invalid input: `validation_error`, or the rule's own code (docs/errors.md)",
    401: "Not signed in, or the credential is missing, expired or revoked",
    403: "Signed in, but without the role or the venue this needs",
    404: "Nothing by that name or id",
    409: "A business rule refused (the code says which)",
    413: "The body is larger than the server accepts",
    429: "Too many requests: wait `Retry-After` seconds",
}


@dataclass(frozen=True)
class OperationFacts:
    """What the server can answer for one operation, read off its route and handler."""

    method: str
    public: bool
    guarded: bool
    path_params: bool
    limited: bool

    def problems(self, has_body: bool) -> set[int]:
        out = {400}
        if not self.public:
            out.add(401)
        if self.guarded or (not self.public and self.method in WRITES):
            out.add(403)
        if self.path_params or (self.method in WRITES and has_body):
            out.add(404)  # the path names something, or the body does (a venue, a slot, a pass)
        if self.method in WRITES:
            out.add(409)
        if has_body:
            out.add(413)
        if self.limited:
            out.add(429)
        return out


def facts_of(route: HTTPRoute, method: str, handler: HTTPRouteHandler) -> OperationFacts:
    opt = handler.opt or {}
    public = all(opt.get(key) for key in PUBLIC)
    return OperationFacts(
        method=method,
        public=public,
        guarded=bool(handler.resolve_guards()) or bool(handler.opt.get("roles")),
        path_params=bool(route.path_parameters),
        limited=limit_of(method, route.path) is not None,
    )


def _problem_response(status: int, description: str | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description or DESCRIPTIONS.get(status, "Refused"),
        "content": {PROBLEM_MEDIA: {"schema": {"$ref": PROBLEM_REF}}},
    }
    if status == 429:
        response["headers"] = {
            "Retry-After": {
                "description": "seconds until a retry may succeed",
                "required": True,
                "schema": {"type": "integer", "minimum": 0},
            }
        }
    return response


def _describe_operation(op: dict[str, Any], facts: OperationFacts) -> None:
    responses: dict[str, Any] = op.setdefault("responses", {})
    statuses = facts.problems(has_body="requestBody" in op)
    if any("text/event-stream" in r.get("content", {}) for r in responses.values()):
        statuses.add(429)  # live streams are capped per account (lib/live_events)
    # what Litestar generated for errors (its own `{status_code, detail, extra}` shape, as JSON) or a
    # handler declared with `raises=[...]`: the status stays, the shape becomes our problem
    statuses |= {int(code) for code in responses if code.isdigit() and int(code) >= 400}
    for status in sorted(statuses):
        responses[str(status)] = _problem_response(status)
    if facts.public:
        op.pop("security", None)
    else:
        op["security"] = [{BEARER: []}, {COOKIE: []}]
    for parameter in op.get("parameters", []):
        if parameter.get("name") == "lang" and parameter.get("in") == "query":
            schema = {"type": "string", "enum": list(LANGS)}
            if "description" in parameter.get("schema", {}):
                schema["description"] = parameter["schema"]["description"]
            parameter["schema"] = schema


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        target: dict[str, Any] = components.get(ref.rsplit("/", 1)[-1], {})
        return target
    return schema


def _alternatives(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return list(schema.get("oneOf") or schema.get("anyOf") or [schema])


def _mark_closed(
    info: msgspec.inspect.Type, schema: dict[str, Any], components: dict[str, Any], seen: set[int]
) -> None:
    """Walk a type and its generated schema side by side; close the objects msgspec closes."""
    if isinstance(info, msgspec.inspect.UnionType):
        for alternative in _alternatives(schema):
            for member in info.types:
                _mark_closed(member, alternative, components, seen)
        return
    if isinstance(info, msgspec.inspect.StructType):
        for alternative in _alternatives(schema):
            target = _resolve(alternative, components)
            if target.get("type") != "object" or id(target) in seen:
                continue
            if "$ref" in alternative and not alternative["$ref"].endswith(
                ("/" + info.cls.__name__, "_" + info.cls.__name__)
            ):
                continue  # another struct of the same union
            seen.add(id(target))
            if info.forbid_unknown_fields:
                target["additionalProperties"] = False
            properties = target.get("properties", {})
            for field in info.fields:
                if field.encode_name in properties:
                    _mark_closed(field.type, properties[field.encode_name], components, seen)
        return
    if isinstance(
        info,
        msgspec.inspect.ListType
        | msgspec.inspect.SetType
        | msgspec.inspect.FrozenSetType
        | msgspec.inspect.VarTupleType,
    ):
        for alternative in _alternatives(schema):
            if isinstance(alternative.get("items"), dict):
                _mark_closed(info.item_type, alternative["items"], components, seen)
        return
    if isinstance(info, msgspec.inspect.DictType):
        for alternative in _alternatives(schema):
            if isinstance(alternative.get("additionalProperties"), dict):
                _mark_closed(info.value_type, alternative["additionalProperties"], components, seen)


def _request_body_type(handler: HTTPRouteHandler) -> Any:
    parameter = handler.parsed_fn_signature.parameters.get("data")
    return None if parameter is None else parameter.annotation


def _request_schema(op: dict[str, Any]) -> dict[str, Any] | None:
    for media in op.get("requestBody", {}).get("content", {}).values():
        schema = media.get("schema")
        if isinstance(schema, dict):
            return schema
    return None


def _operations(routes: list[HTTPRoute]) -> Iterator[tuple[str, str, HTTPRoute, HTTPRouteHandler]]:
    for route in routes:
        for method, (handler, _) in route.route_handler_map.items():
            if handler.resolve_include_in_schema():
                yield route.path_format or "/", method.upper(), route, handler


def describe(schema: dict[str, Any], routes: list[HTTPRoute]) -> dict[str, Any]:
    """Rewrite a generated OpenAPI document (as a dict) to say what the server does; returns it."""
    components = schema.setdefault("components", {})
    component_schemas = components.setdefault("schemas", {})
    component_schemas["ProblemDetails"] = PROBLEM_SCHEMA
    schemes = components.setdefault("securitySchemes", {})
    schemes.pop("BearerToken", None)
    schemes[BEARER] = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "Authorization: Bearer <token>",
    }
    schemes[COOKIE] = {
        "type": "apiKey",
        "in": "cookie",
        "name": "cx_token",
        "description": "the same token in the PWA's HttpOnly cookie",
    }
    schema.pop("security", None)  # per operation below: public routes need none
    paths: dict[str, Any] = schema.get("paths", {})
    seen: set[int] = set()
    for path, method, route, handler in _operations(routes):
        op = paths.get(path, {}).get(method.lower())
        if op is None:
            continue
        _describe_operation(op, facts_of(route, method, handler))
        body_type, body_schema = _request_body_type(handler), _request_schema(op)
        if body_type is not None and body_schema is not None:
            try:
                info = msgspec.inspect.type_info(body_type)
            except TypeError:  # not a msgspec-describable type (e.g. a raw body)
                continue
            _mark_closed(info, body_schema, component_schemas, seen)
    return schema


class DescribedOpenAPI(OpenAPI):
    """Litestar's OpenAPI object, rendered through `describe`."""

    routes: list[HTTPRoute]

    def to_schema(self) -> dict[str, Any]:
        return describe(super().to_schema(), self.routes)


@dataclass
class DescribedOpenAPIConfig(OpenAPIConfig):
    """OpenAPIConfig whose document is a `DescribedOpenAPI` over the routes `OpenAPIContract` saw."""

    contract: OpenAPIContract | None = None

    def to_openapi_schema(self) -> OpenAPI:
        base = super().to_openapi_schema()
        out = DescribedOpenAPI(**{f.name: getattr(base, f.name) for f in fields(base)})
        out.routes = self.contract.routes if self.contract else []
        return out


class OpenAPIContract(InitPlugin, ReceiveRoutePlugin):
    """Add to the app's plugins beside an `openapi_config`: the served document says what the server does."""

    def __init__(self) -> None:
        self._routes: dict[str, HTTPRoute] = {}

    @property
    def routes(self) -> list[HTTPRoute]:
        return list(self._routes.values())

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        config = app_config.openapi_config
        if config is not None and not isinstance(config, DescribedOpenAPIConfig):
            values = {f.name: getattr(config, f.name) for f in fields(config) if f.init}
            app_config.openapi_config = DescribedOpenAPIConfig(**values, contract=self)
        return app_config

    def receive_route(self, route: BaseRoute) -> None:
        if isinstance(route, HTTPRoute):
            self._routes[route.path] = route


# The documentation pages: their scripts and styles come from the app (dist/schema-ui, copied out of the
# PWA's node_modules by pwa/scripts/schema-ui.mjs after `vite build`), never from a CDN.
SCHEMA_UI_PATH = "/schema-ui"
_FAVICON = "<link rel='icon' type='image/png' href='/icons/favicon-64.png'>"


def render_plugins() -> list[OpenAPIRenderPlugin]:
    """Swagger UI at /schema (the default) and /schema/swagger, from `SCHEMA_UI_PATH`.

    Swagger UI only: `swagger-ui-dist` is one package with no dependencies, where Scalar's standalone
    bundle brought some 250 packages (about 300 MB) into every `npm ci` for a page developers open.
    """
    return [
        SwaggerRenderPlugin(
            path=["/", "/swagger"],
            js_url=f"{SCHEMA_UI_PATH}/swagger-ui/swagger-ui-bundle.js",
            css_url=f"{SCHEMA_UI_PATH}/swagger-ui/swagger-ui.css",
            standalone_preset_js_url=f"{SCHEMA_UI_PATH}/swagger-ui/swagger-ui-standalone-preset.js",
            favicon=_FAVICON,
        ),
    ]


def schema_ui_routes(pwa_dist: Path) -> list[Router]:
    """`pwa_dist`/schema-ui at `SCHEMA_UI_PATH` (nothing, with a warning, before the PWA is built)."""
    directory = pwa_dist / "schema-ui"
    if not directory.is_dir():
        log.warning("API documentation assets missing at %s: run `make pwa`", directory)
        return []
    return [
        create_static_files_router(
            path=SCHEMA_UI_PATH,
            directories=[directory],
            opt=PUBLIC,
            include_in_schema=False,
            name="schema_ui",
            cache_control=CacheControlHeader(public=True, max_age=86_400),
        )
    ]
