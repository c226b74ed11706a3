"""Errors people can act on: validation errors name the field, no stack trace ever leaves the server.

Every error carries a stable machine ``code`` and its ``params`` beside the English ``message``, so a client
(the console) can say it in the user's language; ``ops_api.error_codes`` lists the codes and their params.

- 422 ``{"detail": [{"field": "body.password", "message": "must be at least 10 characters",
  "code": "password_too_short", "params": {"min_length": 10}}]}`` for every request validation error
  (pydantic's own: its ``type`` as the code and the JSON-safe part of its ``ctx`` as params);
- 4xx without a field (403, 404, 409, 502, ...): ``{"detail": "camera not found", "code": "camera_not_found",
  "params": {}}`` (``ApiProblem``; the store's ``NotFound`` becomes such a 404 here, ``not_found``);
- 413 when a body is larger than ``api.max_body_bytes`` (``body_too_large``);
- 500 ``{"detail": "internal error", "code": "internal_error", "request_id": "..."}``, the traceback logged
  with that id.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
import uuid
from typing import Any

import psycopg
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.utils import is_body_allowed_for_status_code
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.redact import redact_value
from store.errors import NotFound

log = logging.getLogger("vigil.api")


Params = dict[str, Any]


def field_path(loc: Any) -> str:
    return ".".join(str(part) for part in loc) if loc else "(request)"


def problem(field: str, message: str, code: str, params: Params | None = None) -> dict[str, Any]:
    """One entry of a 4xx ``detail`` list."""
    return {"field": field, "message": message, "code": code, "params": params or {}}


def json_safe(ctx: dict[str, Any] | None) -> Params:
    """The parts of pydantic's ``ctx`` a client can use: numbers, strings, booleans (exceptions dropped)."""
    safe: Params = {}
    for key, value in (ctx or {}).items():
        if isinstance(value, bool | int | str) or (isinstance(value, float) and math.isfinite(value)):
            safe[key] = value
    return safe


def validation_detail(exc: RequestValidationError) -> list[dict[str, Any]]:
    detail = []
    for error in exc.errors():
        message = str(error.get("msg", "invalid value"))
        code = str(error.get("type") or "invalid_value")
        params = json_safe(error.get("ctx"))
        if code == "json_invalid":
            message = f"body is not valid JSON ({params.get('error', 'parse error')})"
        detail.append(problem(field_path(error.get("loc")), message, code, params))
    return detail


class ApiError(HTTPException):
    """A 4xx naming the field at fault: ``{"detail": [{"field", "message", "code", "params"}]}``."""

    def __init__(self, status: int, field: str, message: str, code: str = "invalid_value",
                 params: Params | None = None) -> None:
        super().__init__(status, [problem(field, message, code, params)])


class ApiProblem(HTTPException):
    """A 4xx/5xx about the request as a whole: ``{"detail": message, "code": code, "params": {...}}``."""

    def __init__(self, status: int, message: str, code: str, params: Params | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(status, message, headers=headers)
        self.code = code
        self.params = params or {}


# The code of a 404 by what was not found (an object of a site outside the user's scope is not found either).
NOT_FOUND = {"site": "site_not_found", "camera": "camera_not_found", "zone": "zone_not_found",
             "counter": "counter_not_found", "event": "event_not_found", "officer": "officer_not_found",
             "province": "province_not_found", "roster": "roster_not_found",
             "roster_exception": "roster_exception_not_found", "alarm": "alarm_not_found",
             "alarm_rule": "alarm_rule_not_found", "procedure": "procedure_not_found",
             "handover": "handover_not_found"}


def not_found(what: str) -> ApiProblem:
    """The 404 for a missing object, or one of a site outside the user's scope (the same answer)."""
    return ApiProblem(404, f"{what} not found", code=NOT_FOUND.get(what, "object_not_found"))


ERROR_ENTRY_SCHEMA = {
    "title": "ErrorEntry",
    "type": "object",
    "required": ["field", "message", "code", "params"],
    "properties": {
        "field": {"type": "string", "description": "where the fault is: body.name, query.since, path.camera_id"},
        "message": {"type": "string", "description": "what is wrong, in English"},
        "code": {"type": "string", "description": "stable machine code (ops_api.error_codes), for translations"},
        "params": {"type": "object", "additionalProperties": True, "description": "the values the message names"},
    },
}


def document_errors(app: FastAPI) -> None:
    """Make the OpenAPI document describe the 422 this API really sends (``{"detail": [ErrorEntry]}``) instead
    of FastAPI's default (``loc``/``msg``/``type``), so generated clients read errors right."""
    make_schema = app.openapi

    def openapi() -> dict[str, Any]:
        schema = make_schema()  # FastAPI caches it on the app; patching it again changes nothing
        components = schema.get("components", {}).get("schemas", {})
        if "HTTPValidationError" in components:
            components["ValidationError"] = ERROR_ENTRY_SCHEMA
            components["HTTPValidationError"] = {
                "title": "HTTPValidationError", "type": "object", "required": ["detail"],
                "properties": {"detail": {"type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}}},
            }
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def error_response(body: dict[str, Any], status: int, headers: dict[str, str] | None = None) -> JSONResponse:
    """Every error body leaves through here: credentials that a camera library quoted in a message (a stream
    URL with ``user:password@``, a ``?pwd=`` parameter) are removed, whichever path raised it."""
    return JSONResponse(redact_value(body), status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiProblem)
    async def _problem(request: Request, exc: ApiProblem) -> JSONResponse:
        return error_response({"detail": exc.detail, "code": exc.code, "params": exc.params}, exc.status_code,
                              exc.headers)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> JSONResponse:  # the store's, for every router
        return await _problem(request, not_found(exc.what))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:  # ApiError and the rest
        if not is_body_allowed_for_status_code(exc.status_code):
            return Response(status_code=exc.status_code, headers=exc.headers)
        return error_response({"detail": exc.detail}, exc.status_code, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response({"detail": validation_detail(exc)}, 422)

    @app.exception_handler(psycopg.DataError)
    @app.exception_handler(psycopg.errors.CheckViolation)
    @app.exception_handler(psycopg.errors.NotNullViolation)
    async def _data(request: Request, exc: psycopg.Error) -> JSONResponse:
        # The API validates first; what slips through (NUL characters, values out of the column's range)
        # is still the client's input, not a server fault.
        diag = exc.diag
        name = diag.column_name or diag.constraint_name or "body"
        message = diag.message_primary or str(exc).split("\n")[0] or "invalid value"
        return error_response({"detail": [problem(name, message, "invalid_value")]}, 422)

    @app.exception_handler(psycopg.errors.UniqueViolation)
    async def _conflict(request: Request, exc: psycopg.Error) -> JSONResponse:
        detail = exc.diag.message_detail or "already exists"
        return error_response({"detail": [problem(exc.diag.constraint_name or "body", detail, "already_exists")]},
                              409)

    @app.exception_handler(psycopg.errors.ForeignKeyViolation)
    async def _reference(request: Request, exc: psycopg.Error) -> JSONResponse:
        detail = exc.diag.message_detail or "refers to something that does not exist or is still in use"
        return error_response({"detail": [problem(exc.diag.constraint_name or "body", detail,
                                                      "reference_conflict")]}, 409)

    @app.exception_handler(psycopg.errors.QueryCanceled)
    async def _too_slow(request: Request, exc: Exception) -> JSONResponse:
        # The server raises the same error for its statement timeout and for a cancel (an administrator's
        # pg_cancel_backend): which one it was shows in how long the request ran, whatever the server's language.
        request_id = request.scope.get("vigil.request_id", "-")
        timeout_s = getattr(request.app.state, "statement_timeout_s", 0.0)
        started = request.scope.get("vigil.started")
        ran_s = time.monotonic() - started if started is not None else math.inf
        if not timeout_s or ran_s < 0.95 * timeout_s:
            log.warning("query cancelled by the database after %.1f s on %s %s (request %s): %s", ran_s,
                        request.method, request.url.path, request_id, str(exc).split("\n")[0])
            return error_response({"detail": "the database cancelled the request (an administrator stopped it); "
                                             "try again", "code": "query_cancelled", "params": {},
                                   "request_id": request_id}, 503)
        log.warning("query stopped after database.statement_timeout_s = %g s on %s %s (request %s)", timeout_s,
                    request.method, request.url.path, request_id)
        return error_response({"detail": f"the request took the database longer than {timeout_s:g} s and was "
                                         "stopped; ask for less (a shorter range, fewer cameras) or try again",
                               "code": "query_timeout", "params": {"timeout_s": timeout_s},
                               "request_id": request_id}, 503)

    @app.exception_handler(psycopg.OperationalError)
    async def _db_down(request: Request, exc: Exception) -> JSONResponse:
        request_id = request.scope.get("vigil.request_id", "-")
        log.error("database unavailable (request %s): %s", request_id, exc)
        return error_response({"detail": "the database is unavailable; try again shortly",
                               "code": "database_unavailable", "params": {}, "request_id": request_id}, 503)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        request_id = request.scope.get("vigil.request_id", "-")
        log.exception("internal error on %s %s (request %s)", request.method, request.url.path, request_id)
        return JSONResponse({"detail": "internal error", "code": "internal_error", "params": {},
                             "request_id": request_id}, status_code=500)


class BodyLimitMiddleware:
    """Answers 413 for bodies above ``max_bytes`` (declared or streamed) and tags each request with an id.
    ``larger`` allows bigger bodies on the paths its patterns match (a site plan's picture)."""

    def __init__(self, app: ASGIApp, max_bytes: int, larger: dict[re.Pattern[str], int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = larger or {}

    def limit(self, path: str) -> int:
        return next((n for pattern, n in self.larger.items() if pattern.match(path)), self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope["vigil.request_id"] = uuid.uuid4().hex[:16]
        scope["vigil.started"] = time.monotonic()  # tells a statement timeout from a cancel
        limit = self.limit(scope.get("path", ""))
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > limit
            except ValueError:
                too_big = False
            if too_big:
                await self._reject(send, limit)
                return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, self.too_large(limit))
            return message

        async def tracking_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", scope["vigil.request_id"].encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, limited_receive, tracking_send)

    @staticmethod
    def too_large(limit: int) -> list[dict[str, Any]]:
        return [problem("body", f"request body is larger than {limit} bytes", "body_too_large",
                        {"max_bytes": limit})]

    async def _reject(self, send: Send, limit: int) -> None:
        body = json.dumps({"detail": self.too_large(limit)}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
