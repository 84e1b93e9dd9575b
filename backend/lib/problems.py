"""Every refusal is RFC 9457 problem+json with a stable snake_case `code`.

Services raise `DomainError` subclasses (they know nothing of HTTP); the handlers here turn those and
Litestar's own HTTP exceptions into one shape: {type, title, status, detail, code, ...}.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    TooManyRequestsException,
    ValidationException,
)
from litestar.plugins.problem_details import ProblemDetailsConfig, ProblemDetailsException, ProblemDetailsPlugin
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

log = logging.getLogger("changxiang.errors")

PROBLEM_TYPE_BASE = "https://changxiang.dev/problems/"


class DomainError(Exception):
    """A business rule said no. `code` is stable and documented; `status` is the HTTP status."""

    status: int = 409

    def __init__(self, code: str, detail: str = "", *, status: int | None = None, **extra: Any) -> None:
        super().__init__(detail or code)
        self.code = code
        self.detail = detail or code.replace("_", " ")
        if status is not None:
            self.status = status
        self.extra = extra


class InvalidInput(DomainError):
    status = 400


class Unauthenticated(DomainError):
    status = 401


class Forbidden(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request entity too large",
    415: "Unsupported media type",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}

_DEFAULT_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


def problem(
    status: int, code: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> ProblemDetailsException:
    return ProblemDetailsException(
        status_code=status,
        type_=PROBLEM_TYPE_BASE + code,
        title=_TITLES.get(status, "Error"),
        detail=detail,
        headers=headers,
        extra={"code": code, **extra},
    )


def _domain_to_problem(exc: DomainError) -> ProblemDetailsException:
    extra = dict(exc.extra)
    if "field" in extra and "errors" not in extra:
        extra["errors"] = [{"field": extra["field"], "source": None, "message": exc.detail}]
    headers = {"Retry-After": str(extra["retry_after"])} if "retry_after" in extra else None
    return problem(exc.status, exc.code, exc.detail, headers=headers, **extra)


def _validation_errors(extra: Any) -> list[dict[str, Any]]:
    errors = []
    for item in extra or []:
        if isinstance(item, dict):
            errors.append({"field": item.get("key"), "source": item.get("source"), "message": item.get("message")})
    return errors


def http_to_problem(exc: HTTPException) -> ProblemDetailsException:
    status = exc.status_code
    if isinstance(exc, ValidationException):
        errors = _validation_errors(exc.extra)
        fields = [e["field"] for e in errors if e.get("field")]
        detail = "invalid input" + (f": {', '.join(fields)}" if fields else "")
        return problem(400, "validation_error", detail, errors=errors)
    if isinstance(exc, TooManyRequestsException):
        headers = dict(exc.headers or {})
        reset = headers.get("RateLimit-Reset")
        headers.setdefault("Retry-After", reset or "60")
        return problem(429, "rate_limited", "too many requests; try again later", headers=headers)
    code = _DEFAULT_CODES.get(status, "http_error")
    if isinstance(exc, NotFoundException):
        code = "not_found"
    elif isinstance(exc, NotAuthorizedException):
        code = "not_authenticated"
    elif isinstance(exc, PermissionDeniedException):
        code = "forbidden"
    detail = exc.detail if exc.detail and exc.detail != _TITLES.get(status) else code.replace("_", " ")
    return problem(status, code, detail, headers=exc.headers)


# Inputs the edge (lib/input_guard) and the schemas let through but the database or date arithmetic can't
# take: asyncpg's DataError family by name (only lib/db may import the driver), sqlite3's and Python's
# range errors. Character errors are text (a NUL, a lone surrogate); the rest are values out of range.
_TEXT_ERRORS = {"CharacterNotInRepertoireError", "UntranslatableCharacterError", "UnicodeEncodeError"}


def refused_input(exc: BaseException) -> str | None:
    """The problem code for an error the input caused where it could not be stored or computed (a value
    past a column's range, a date past the calendar's end, a NUL in PostgreSQL text), else None."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    if names & _TEXT_ERRORS:
        return "invalid_text"
    if isinstance(exc, OverflowError) or "DataError" in names:
        return "out_of_range"
    if isinstance(exc, ValueError) and "out of range" in str(exc):  # date(10000, 1, 1), date.replace(year=0)
        return "out_of_range"
    return None


def unexpected_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The last line: log with the request id, answer a bare 500 problem (never a stack trace). An input
    that could not be stored or computed is the caller's 400, still logged with its trace: the edge or a
    schema should have refused it, and the log says where."""
    code = refused_input(exc)
    if code is not None:
        log.warning("input refused past the edge", exc_info=exc, extra={"path": request.url.path, "code": code})
        detail = "a value can't be stored: text with a NUL character or invalid Unicode"
        if code == "out_of_range":
            detail = "a number or a date is out of the range this service can store or compute"
        return problem(400, code, detail).to_response(request)
    log.exception("unhandled error", extra={"path": request.url.path})
    return problem(HTTP_500_INTERNAL_SERVER_ERROR, "internal_error", "internal error").to_response(request)


problem_details_plugin = ProblemDetailsPlugin(
    ProblemDetailsConfig(
        exception_to_problem_detail_map={
            DomainError: _domain_to_problem,
            HTTPException: http_to_problem,
        }
    )
)
