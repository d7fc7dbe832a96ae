"""Stream Chat's API errors: the codes, statuses and message style its REST API answers with."""

from __future__ import annotations

from collections.abc import Iterable

# Stream's own error codes (its "API error codes" table), with the HTTP status each comes with.
INTERNAL_ERROR = -1  # 500
ACCESS_KEY_ERROR = 2  # 401: the api_key is missing or unknown
INPUT_ERROR = 4  # 400
AUTHENTICATION_ERROR = 5  # 401
RATE_LIMIT_ERROR = 9  # 429
DOES_NOT_EXIST = 16  # 404
NOT_ALLOWED = 17  # 403
MESSAGE_TOO_LONG = 20  # 400
PAYLOAD_TOO_BIG = 22  # 413
REQUEST_TIMEOUT = 23  # 408
TOKEN_EXPIRED = 40  # 401
TOKEN_NOT_VALID_YET = 41  # 401: `nbf` in the future
TOKEN_BEFORE_ISSUED_AT = 42  # 401: `iat` in the future
TOKEN_SIGNATURE_INVALID = 43  # 401

_CODE_FOR_STATUS = {
    400: INPUT_ERROR,
    401: AUTHENTICATION_ERROR,
    403: NOT_ALLOWED,
    404: DOES_NOT_EXIST,
    408: REQUEST_TIMEOUT,
    413: PAYLOAD_TOO_BIG,
    429: RATE_LIMIT_ERROR,
}
MORE_INFO_URL = "https://getstream.io/chat/docs/api_errors_response"


class StreamAPIError(Exception):
    """An error answer of the Stream API: HTTP status, Stream code and message."""

    def __init__(self, status_code: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return (
            f"StreamAPIError(status_code={self.status_code}, code={self.code}, "
            f"message={self.message!r})"
        )

    def to_json(self, *, duration: str = "0.00ms") -> dict[str, object]:
        """The error body exactly as Stream spells it (note `StatusCode`)."""
        return {
            "code": self.code,
            "message": self.message,
            "StatusCode": self.status_code,
            "duration": duration,
            "more_info": MORE_INFO_URL,
            # Required by Stream's OpenAPI `APIError`; the simulation has no extra details to give.
            "details": [],
        }

    @classmethod
    def for_status(cls, status_code: int, message: str) -> StreamAPIError:
        """An error with the Stream code that usually accompanies `status_code`."""
        code = _CODE_FOR_STATUS.get(status_code, INTERNAL_ERROR)
        return cls(status_code, code, message)


def _failed(endpoint: str, detail: str) -> str:
    # Stream prefixes every message with the endpoint's name and quotes the reason.
    return f'{endpoint} failed with error: "{detail}"'


def input_error(endpoint: str, detail: str) -> StreamAPIError:
    """400 / code 4: wrong data or parameters."""
    return StreamAPIError(400, INPUT_ERROR, _failed(endpoint, detail))


def does_not_exist(endpoint: str, detail: str) -> StreamAPIError:
    """404 / code 16: the addressed resource does not exist."""
    return StreamAPIError(404, DOES_NOT_EXIST, _failed(endpoint, detail))


def not_allowed(endpoint: str, detail: str) -> StreamAPIError:
    """403 / code 17: the action is not allowed in the resource's current state."""
    return StreamAPIError(403, NOT_ALLOWED, _failed(endpoint, detail))


def message_too_long(endpoint: str, limit: int) -> StreamAPIError:
    """400 / code 20: the message text is over the app's limit."""
    return StreamAPIError(
        400, MESSAGE_TOO_LONG, _failed(endpoint, f"message is too long, max length is {limit}")
    )


def id_list(ids: Iterable[str]) -> str:
    """Ids as Stream (a Go service) prints a slice: `[a b c]`."""
    return "[" + " ".join(ids) + "]"
