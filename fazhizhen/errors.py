"""Domain errors. The web layer turns each into the contract's JSON error shape."""

from typing import Any


class DomainError(Exception):
    """Base of every error a client may see; carries the HTTP status and a stable code."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: list[dict[str, Any]] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []
        self.extra = extra


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class InvalidInput(DomainError):
    status = 422
    code = "invalid_input"

    @classmethod
    def field(cls, field: str, message: str) -> "InvalidInput":
        """An error about one named field."""
        return cls(message, details=[{"field": field, "message": message}])


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported_media_type"


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, **extra: Any) -> None:
        super().__init__(message, **extra)
        self.retry_after = max(1, int(retry_after))


class Unavailable(DomainError):
    status = 503
    code = "unavailable"
