"""`/threads`: QueryThreads and GetThread, over the messages that have replies.

A thread is a top-level message with at least one reply. A user sees the threads of the
channels they are a member of and those they take part in (started or replied to).
Filters: `parent_message_id`, `channel_cid`, `created_by_user_id` (a value, `$eq` or
`$in`); sorts: `last_message_at` (the default, newest first), `created_at`, `reply_count`,
`participant_count`; pages by `limit` and the `next`/`prev` cursors.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any, Final

from litestar import Request, Response, get, post
from litestar.params import FromPath

from stream_emulator.api.request_response import (
    acting_user,
    control_of,
    int_field,
    object_field,
    ok,
    read_body,
)
from stream_emulator.state import StreamChannel, StreamMessage, StreamState, filters, payloads
from stream_emulator.state.errors import does_not_exist, input_error, not_allowed
from stream_emulator.state.message_search import cursor, from_cursor

ONLY_AS_SELF: Final = "a user can only query their own threads"
FILTERS: Final = {
    "parent_message_id": lambda t: t.parent.id,
    "channel_cid": lambda t: t.channel.cid,
    "created_by_user_id": lambda t: t.parent.user_id,
}
MAX_THREADS_PAGE: Final = 25
DEFAULT_REPLY_LIMIT: Final = 2


class Thread:
    """A parent message, its channel and its replies (oldest first)."""

    def __init__(
        self, channel: StreamChannel, parent: StreamMessage, replies: list[StreamMessage]
    ) -> None:
        self.channel, self.parent, self.replies = channel, parent, replies

    @property
    def participants(self) -> list[str]:
        """Who started or replied, in order of first appearance."""
        return list(dict.fromkeys([self.parent.user_id, *(r.user_id for r in self.replies)]))

    def sort_value(self, field: str) -> str | int:
        if field == "created_at":
            return self.parent.created_at.isoformat()
        if field == "reply_count":
            return len(self.replies)
        if field == "participant_count":
            return len(self.participants)
        return self.replies[-1].created_at.isoformat()


def threads_of(state: StreamState, user_id: str) -> list[Thread]:
    """Every thread the user may see."""
    found: list[Thread] = []
    for channel in state.all_channels():
        messages = state.messages(channel.type, channel.id)
        for parent in messages:
            if parent.parent_id is not None or parent.deleted_at is not None:
                continue
            replies = [m for m in messages if m.parent_id == parent.id and m.deleted_at is None]
            if not replies:
                continue
            thread = Thread(channel, parent, replies)
            if channel.member(user_id) is not None or user_id in thread.participants:
                found.append(thread)
    return found


def _matches(endpoint: str, conditions: Mapping[str, object]) -> list[Any]:
    tests = []
    for key, condition in conditions.items():
        read = FILTERS.get(key)
        if read is None:
            raise input_error(endpoint, f"threads filter on {key} is not supported")
        operations = condition if isinstance(condition, Mapping) else {"$eq": condition}
        for operator, operand in operations.items():
            if operator == "$eq":
                options = [operand]
            elif operator == "$in" and isinstance(operand, list):
                options = list(operand)
            else:
                raise input_error(endpoint, f"operator {operator} is not supported on {key}")
            tests.append(functools.partial(_one_of, read, options))
    return tests


def _one_of(read: Any, options: Sequence[object], thread: Thread) -> bool:
    return any(filters.json_equal(read(thread), option) for option in options)


def thread_json(state: StreamState, thread: Thread, reply_limit: int) -> dict[str, object]:
    """`ThreadStateResponse`."""
    lookup = state.user
    last = thread.replies[-1].created_at
    return {
        "channel_cid": thread.channel.cid,
        "channel": payloads.channel(thread.channel, lookup),
        "parent_message_id": thread.parent.id,
        "parent_message": payloads.message(thread.parent, lookup),
        "created_by_user_id": thread.parent.user_id,
        "created_by": payloads.user_or_id(thread.parent.user_id, lookup),
        "reply_count": len(thread.replies),
        "participant_count": len(thread.participants),
        "active_participant_count": len(thread.participants),
        "thread_participants": [
            {
                "channel_cid": thread.channel.cid,
                "user_id": user_id,
                "user": payloads.user_or_id(user_id, lookup),
                "created_at": payloads.format_time(thread.parent.created_at),
            }
            for user_id in thread.participants
        ],
        "last_message_at": payloads.format_time(last),
        "created_at": payloads.format_time(thread.parent.created_at),
        "updated_at": payloads.format_time(last),
        "title": thread.parent.text[:60],
        "custom": {},
        "latest_replies": [
            payloads.message(reply, lookup) for reply in thread.replies[-reply_limit:]
        ]
        if reply_limit
        else [],
        "read": [],
    }


@post("/threads")
async def query_threads(request: Request[Any, Any, Any]) -> Response[Any]:
    """QueryThreads: the acting user's threads, filtered, sorted and paged."""
    endpoint = "QueryThreads"
    body = await read_body(request, endpoint)
    user_id = acting_user(request, endpoint, body.get("user_id"), refusal=ONLY_AS_SELF)
    tests = _matches(endpoint, object_field(body, "filter", endpoint) or {})
    limit = int_field(body, "limit", endpoint, default=10, low=1, high=MAX_THREADS_PAGE)
    reply_limit = int_field(body, "reply_limit", endpoint, default=DEFAULT_REPLY_LIMIT, high=10)
    sort = body.get("sort") or [{"field": "last_message_at", "direction": -1}]
    given = body.get("next") or body.get("prev")
    offset = 0
    if given:
        offset, sort = from_cursor(endpoint, given)
    if not isinstance(sort, list):
        raise input_error(endpoint, "sort must be a list of {field, direction}")
    state = control_of(request).state
    found = [t for t in threads_of(state, user_id) if all(test(t) for test in tests)]
    for item in reversed(sort):
        field = item.get("field") if isinstance(item, Mapping) else None
        direction = item.get("direction", 1) if isinstance(item, Mapping) else None
        if field not in ("last_message_at", "created_at", "reply_count", "participant_count"):
            raise input_error(endpoint, f"threads cannot be sorted by {field!r}")
        if direction not in (1, -1):
            raise input_error(endpoint, "sort direction must be 1 or -1")
        found.sort(key=functools.partial(_key, str(field)), reverse=direction == -1)
    page = found[offset : offset + limit]
    answer: dict[str, object] = {
        "threads": [thread_json(state, t, reply_limit) for t in page],
        "next": cursor(offset + limit, sort) if len(found) > offset + limit else None,
        "prev": cursor(max(offset - limit, 0), sort) if offset else None,
    }
    return ok(request, answer, 201)


def _key(field: str, thread: Thread) -> str | int:
    return thread.sort_value(field)


@get("/threads/{message_id:str}")
async def get_thread(request: Request[Any, Any, Any], message_id: FromPath[str]) -> Response[Any]:
    """GetThread: one thread by its parent message."""
    endpoint = "GetThread"
    user_id = acting_user(
        request, endpoint, request.query_params.get("user_id"), refusal=ONLY_AS_SELF
    )
    state = control_of(request).state
    found = next((t for t in threads_of(state, user_id) if t.parent.id == message_id), None)
    if found is None:
        if state.message_exists(message_id):
            raise not_allowed(endpoint, f"User '{user_id}' cannot read thread {message_id}")
        raise does_not_exist(endpoint, f"thread {message_id} does not exist")
    reply_limit = request.query_params.get("reply_limit", str(DEFAULT_REPLY_LIMIT))
    limit = int(reply_limit) if reply_limit.isdigit() else DEFAULT_REPLY_LIMIT
    return ok(request, {"thread": thread_json(state, found, min(limit, 10))}, 200)


ROUTES: Final = [query_threads, get_thread]
