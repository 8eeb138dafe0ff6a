"""Turn a service's refusal into the code and message both transports report.

The WebSocket consumer sends it as an error frame, the HTTP views as JSON
(or as form errors): the same words whichever way a comment came in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError

from blog.accounts.two_factor.policy import SecondFactorRequired
from blog.comments.services import LoginRequired
from blog.rate_limit import RateLimited

HTTP_STATUS = {
    "login_required": 401,
    "forbidden": 403,
    # A power of a user BLOG_REQUIRE_2FA covers, from a session that has given no second factor.
    "second_factor_required": 403,
    "invalid": 400,
    "rate_limited": 429,
}

# The refusals a service may raise; anything else is a bug and is raised on.
SERVICE_REFUSALS = (PermissionDenied, ValidationError, RateLimited)


@dataclass(frozen=True)
class Failure:
    code: str
    message: str
    extra: dict[str, object] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message, **self.extra}

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.code]


def failure_from(error: Exception) -> Failure:
    if isinstance(error, LoginRequired):
        return Failure("login_required", str(error))
    if isinstance(error, SecondFactorRequired):
        return Failure("second_factor_required", str(error))
    if isinstance(error, PermissionDenied):
        return Failure("forbidden", str(error))
    if isinstance(error, RateLimited):
        return Failure("rate_limited", str(error), {"retry_after": error.retry_after})
    if isinstance(error, ValidationError):
        errors = error.message_dict
        return Failure("invalid", next(iter(errors.values()))[0], {"errors": errors})
    raise TypeError(f"not a service refusal: {error!r}")
