"""One error catalog: every failure the use cases raise, each with a stable code and one status."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import attrs


@attrs.frozen(kw_only=True)
class FieldProblem:
    """One field-level validation problem, reported in an error's `details`."""

    field: str
    message: str
    value: str | None = None


class ChatError(Exception):
    """Base of every domain error; `status` follows the contract's error table.

    Field names are the domain's (`member_ids`, in `details` and in `field`, the field the
    message starts with); an edge renames them to its own wire names.
    """

    status: ClassVar[int] = 500
    default_code: ClassVar[str] = "internal_error"
    default_message: ClassVar[str] = "Internal error"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: Sequence[FieldProblem | str] = (),
        field: str | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.code = code or self.default_code
        self.details: tuple[FieldProblem | str, ...] = tuple(details)
        self.field = field
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class InvalidInput(ChatError):
    """400: wrong type, missing field, out-of-range value."""

    status = 400
    default_code = "invalid_input"
    default_message = "The request is not valid"


class NotOrgMember(ChatError):
    """400: ids that are not current members of the org; `details` lists them."""

    status = 400
    default_code = "not_org_member"
    default_message = "Some users are not members of this organisation"


class Unauthenticated(ChatError):
    """401: missing or invalid credentials."""

    status = 401
    default_code = "unauthenticated"
    default_message = "Authentication required"


class Forbidden(ChatError):
    """403: authenticated but not allowed."""

    status = 403
    default_code = "forbidden"
    default_message = "You are not allowed to do this"


class NotFound(ChatError):
    """404: the referenced appointment, org, user or channel does not exist."""

    status = 404
    default_code = "not_found"
    default_message = "Not found"


class Conflict(ChatError):
    """409: the request disagrees with the current state."""

    status = 409
    default_code = "conflict"
    default_message = "The request conflicts with the current state"


class PayloadTooLarge(ChatError):
    """413: the body is over the size limit."""

    status = 413
    default_code = "payload_too_large"
    default_message = "The request body is too large"


class RateLimited(ChatError):
    """429: over budget; `retry_after` seconds until a new attempt may succeed."""

    status = 429
    default_code = "rate_limited"
    default_message = "Too many requests"

    def __init__(self, message: str | None = None, *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


class ProviderFailed(ChatError):
    """502: the chat provider answered with an error we cannot attribute to the input."""

    status = 502
    default_code = "provider_failed"
    default_message = "The chat provider failed"


class ProviderUsersMissing(ProviderFailed):
    """502: the chat provider does not know users we named (it lost them: a new app, an
    emptied account, users deleted there); `user_ids` are the ones it listed, if it did."""

    default_code = "provider_rejected"
    default_message = "The chat provider does not know some of the users"

    def __init__(self, message: str | None = None, *, user_ids: frozenset[str] = frozenset()):
        super().__init__(message)
        self.user_ids = user_ids


class ProviderUnavailable(ChatError):
    """503: the chat provider (or a store) is unreachable or rate limiting us."""

    status = 503
    default_code = "provider_unavailable"
    default_message = "The chat provider is unavailable, try again shortly"

    def __init__(self, message: str | None = None, *, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


class DeadlineExceeded(ProviderUnavailable):
    """503: the request's (or event's) time budget ran out waiting for a dependency."""

    default_code = "deadline_exceeded"
    default_message = "The service could not answer in time, try again shortly"

    def __init__(self, message: str | None = None, *, retry_after: int = 2) -> None:
        super().__init__(message, retry_after=retry_after)


# Stable codes used across the use cases, kept here so clients and tests share one list.
CODE_NOT_CALLER = "not_caller"
CODE_NOT_PARTICIPANT = "not_participant"
CODE_NOT_ORG_MEMBER_CALLER = "not_in_org"
CODE_ADMIN_ONLY = "admin_only"
CODE_USER_NOT_FOUND = "user_not_found"
CODE_ORG_NOT_FOUND = "org_not_found"
CODE_APPOINTMENT_NOT_FOUND = "appointment_not_found"
CODE_CHANNEL_NOT_FOUND = "channel_not_found"
CODE_GROUP_NOT_FOUND = "group_not_found"
CODE_DEVICE_NOT_FOUND = "device_not_found"
CODE_CHANNEL_EXISTS = "channel_exists"
CODE_APPOINTMENT_MISMATCH = "appointment_mismatch"
CODE_CHAT_ENDED = "chat_ended"
CODE_CHAT_DELETED = "chat_deleted"
CODE_CANNOT_REMOVE_CREATOR = "cannot_remove_creator"
CODE_CANNOT_END_DM = "cannot_end_dm"
CODE_GROUP_FULL = "group_full"
CODE_CHANGE_IN_PROGRESS = "change_in_progress"
CODE_STILL_ORG_MEMBER = "still_org_member"
CODE_MEMBER_NOT_FOUND = "member_not_found"
CODE_DIRECTORY_READ_ONLY = "directory_read_only"
CODE_OWNER_ONLY = "owner_only"
CODE_LAST_ADMIN = "last_admin"
