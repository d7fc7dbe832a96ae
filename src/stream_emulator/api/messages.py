"""`/channels/{type}/{id}/message`: send a message (SendMessage), server-side or as a user."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from litestar import Request, Response, delete, get, post, put
from litestar.params import FromPath

from stream_emulator.api.inputs import UNSUPPORTED_MESSAGE_FIELDS
from stream_emulator.api.request_response import (
    acting_user,
    control_of,
    int_field,
    named_user,
    object_field,
    ok,
    payload_param,
    principal_of,
    read_body,
    refuse_unsupported,
    server_only,
    string_list,
)
from stream_emulator.state import StreamMessage, message_history, message_search, payloads
from stream_emulator.state.errors import input_error, not_allowed
from stream_emulator.state.messages import MAX_SEARCH_LIMIT

# Reaction fields Stream reserves; the rest are the reaction's custom data.
RESERVED_REACTION_FIELDS: Final = frozenset(
    {"type", "score", "user", "user_id", "message_id", "created_at", "updated_at"}
)
# What a user naming someone else is told (Stream refuses with code 17).
ONLY_AS_SELF = "a user can only react as themselves"


@post("/channels/{channel_type:str}/{channel_id:str}/message")
async def send_message(
    request: Request[Any, Any, Any], channel_type: FromPath[str], channel_id: FromPath[str]
) -> Response[Any]:
    """SendMessage: as the message's user (server-side) or as the token's user."""
    endpoint = "SendMessage"
    body = await read_body(request, endpoint)
    message = object_field(body, "message", endpoint)
    if message is None:
        raise input_error(endpoint, "message is a required field")
    refuse_unsupported(message, UNSUPPORTED_MESSAGE_FIELDS, endpoint, "message.")
    named = named_user(message)
    if named is not None and not isinstance(named, str):
        raise input_error(endpoint, "message.user_id must be a string")
    principal = principal_of(request)
    if principal.is_server:
        if named is None:
            raise input_error(
                endpoint, "message.user or message.user_id is required with server side auth"
            )
        sender = named
    else:
        sender = str(principal.user_id)
        if named is not None and named != sender:
            raise not_allowed(endpoint, "a user can only send messages as themselves")
    text = message.get("text", "")
    message_type = message.get("type", "regular")
    message_id = message.get("id")
    attachments = message.get("attachments") or []
    if not isinstance(text, str) or not isinstance(message_type, str):
        raise input_error(endpoint, "message.text and message.type must be strings")
    if message_id is not None and not isinstance(message_id, str):
        raise input_error(endpoint, "message.id must be a string")
    if not isinstance(attachments, list) or not all(isinstance(a, Mapping) for a in attachments):
        raise input_error(endpoint, "message.attachments must be a list of objects")
    parent_id = message.get("parent_id")
    show_in_channel = message.get("show_in_channel", False)
    if parent_id is not None and not isinstance(parent_id, str):
        raise input_error(endpoint, "message.parent_id must be a string")
    if not isinstance(show_in_channel, bool):
        raise input_error(endpoint, "message.show_in_channel must be a boolean")
    if not principal.is_server and message_type != "regular":
        raise not_allowed(endpoint, f"users cannot send {message_type} messages")
    pending = body.get("pending")
    pending_metadata = object_field(body, "pending_message_metadata", endpoint)
    if pending is not None and not isinstance(pending, bool):
        raise input_error(endpoint, "pending must be a boolean")
    if pending is not None and not principal.is_server:
        raise not_allowed(endpoint, "pending is a server-side option")
    state = control_of(request).state
    posted = state.send_message(
        channel_type,
        channel_id,
        text=text,
        user_id=sender,
        attachments=attachments,
        message_type=message_type,
        message_id=message_id,
        client_side=not principal.is_server,
        parent_id=parent_id,
        show_in_channel=show_in_channel,
        fields=message,
        pending=pending,
        pending_metadata=pending_metadata,
    )
    return ok(request, {"message": payloads.message(posted, state.user, _as_user(request))}, 201)


def _as_user(request: Request[Any, Any, Any]) -> str | None:
    """The calling user (permission-checked), or None for the server."""
    principal = principal_of(request)
    return None if principal.is_server else principal.user_id


def _answer(request: Request[Any, Any, Any], message: StreamMessage, status: int) -> Response[Any]:
    state = control_of(request).state
    return ok(
        request, {"message": payloads.message(message, state.user, _as_user(request))}, status
    )


@post("/messages/history")
async def query_message_history(request: Request[Any, Any, Any]) -> Response[Any]:
    """QueryMessageHistory (server-side): `{filter, sort?, limit?, next?|prev?}`."""
    endpoint = "QueryMessageHistory"
    server_only(request, endpoint)
    body = await read_body(request, endpoint)
    sort = body.get("sort")
    offset = 0
    cursor = body.get("next") or body.get("prev")
    if cursor:
        offset, sort = message_search.from_cursor(endpoint, cursor)
    limit = int_field(body, "limit", endpoint, default=0, high=message_history.MAX_LIMIT)
    entries, more = control_of(request).state.message_history(
        body.get("filter"), sort, limit=limit, offset=offset
    )
    answer: dict[str, object] = {"message_history": [e.as_json() for e in entries]}
    answer.update(message_history.page_cursors(offset, limit, more, sort))
    return ok(request, answer, 201)


@post("/messages/{message_id:str}/commit")
async def commit_message(
    request: Request[Any, Any, Any], message_id: FromPath[str]
) -> Response[Any]:
    """CommitMessage (server-side): a pending message becomes visible to the channel."""
    server_only(request, "CommitMessage")
    return _answer(request, control_of(request).state.commit_message(message_id), 201)


@get("/messages/{message_id:str}")
async def get_message(request: Request[Any, Any, Any], message_id: FromPath[str]) -> Response[Any]:
    """GetMessage: one message by id (a user must be a member of its channel)."""
    state = control_of(request).state
    found = state.get_message(message_id, as_user=_as_user(request))
    show = request.query_params.get("show_deleted_message", "false").lower() == "true"
    body = payloads.message(found, state.user, _as_user(request), show_deleted=show)
    return ok(request, {"message": body}, 200)


@post("/messages/{message_id:str}")
async def update_message(
    request: Request[Any, Any, Any], message_id: FromPath[str]
) -> Response[Any]:
    """UpdateMessage: replace text and attachments (the SDKs send the whole message)."""
    endpoint = "UpdateMessage"
    body = await read_body(request, endpoint)
    message = object_field(body, "message", endpoint)
    if message is None:
        raise input_error(endpoint, "message is a required field")
    # The SDKs echo the whole message back: what Stream writes itself is ignored.
    fields = {"attachments": [], **message, "text": message.get("text", "")}
    named = named_user(message)
    state = control_of(request).state
    updated = state.update_message(
        message_id,
        set_fields=fields,
        as_user=_as_user(request),
        acting_user=named if isinstance(named, str) and _as_user(request) is None else None,
        full=True,
    )
    return _answer(request, updated, 201)


@put("/messages/{message_id:str}")
async def update_message_partial(
    request: Request[Any, Any, Any], message_id: FromPath[str]
) -> Response[Any]:
    """UpdateMessagePartial: set and unset text, attachments, `pinned`/`pin_expires`,
    `silent` and custom fields (server-side, as `user_id`)."""
    endpoint = "UpdateMessagePartial"
    body = await read_body(request, endpoint)
    to_set = object_field(body, "set", endpoint) or {}
    unset = string_list(body.get("unset"), "unset", endpoint)
    named = named_user(body)
    state = control_of(request).state
    updated = state.update_message(
        message_id,
        set_fields=to_set,
        unset=unset,
        as_user=_as_user(request),
        acting_user=named if isinstance(named, str) and _as_user(request) is None else None,
    )
    return _answer(request, updated, 200)


@delete("/messages/{message_id:str}", status_code=200)
async def delete_message(
    request: Request[Any, Any, Any], message_id: FromPath[str]
) -> Response[Any]:
    """DeleteMessage: soft by default, `hard=true` server-side only."""
    hard = request.query_params.get("hard", "false").lower() in ("1", "true")
    state = control_of(request).state
    deleted = state.delete_message(message_id, hard=hard, as_user=_as_user(request))
    return _answer(request, deleted, 200)


@post("/messages/{message_id:str}/reaction")
async def send_reaction(
    request: Request[Any, Any, Any], message_id: FromPath[str]
) -> Response[Any]:
    """SendReaction: `{reaction: {type, score?}, enforce_unique?}`."""
    endpoint = "SendReaction"
    body = await read_body(request, endpoint)
    reaction = object_field(body, "reaction", endpoint)
    if reaction is None or not isinstance(reaction.get("type"), str):
        raise input_error(endpoint, "reaction.type is a required field")
    named = named_user(reaction)
    user_id = acting_user(request, endpoint, named, refusal=ONLY_AS_SELF)
    score = int_field(reaction, "score", endpoint, default=1, low=1)
    unique = body.get("enforce_unique", False)
    if not isinstance(unique, bool):
        raise input_error(endpoint, "enforce_unique must be a boolean")
    state = control_of(request).state
    message, added = state.send_reaction(
        message_id,
        reaction_type=str(reaction["type"]),
        user_id=user_id,
        score=score,
        enforce_unique=unique,
        client_side=not principal_of(request).is_server,
        custom={k: v for k, v in reaction.items() if k not in RESERVED_REACTION_FIELDS},
    )
    return ok(
        request,
        {
            "message": payloads.message(message, state.user, _as_user(request)),
            "reaction": payloads.reaction(added, state.user),
        },
        201,
    )


@delete("/messages/{message_id:str}/reaction/{reaction_type:str}", status_code=200)
async def delete_reaction(
    request: Request[Any, Any, Any], message_id: FromPath[str], reaction_type: FromPath[str]
) -> Response[Any]:
    """DeleteReaction: the caller's (or, server-side, `user_id`'s) reaction of that type."""
    endpoint = "DeleteReaction"
    user_id = acting_user(
        request,
        endpoint,
        request.query_params.get("user_id"),
        refusal=ONLY_AS_SELF,
    )
    state = control_of(request).state
    message, removed = state.delete_reaction(
        message_id,
        reaction_type=reaction_type,
        user_id=user_id,
        client_side=not principal_of(request).is_server,
    )
    return ok(
        request,
        {
            "message": payloads.message(message, state.user, _as_user(request)),
            "reaction": payloads.reaction(removed, state.user),
        },
        200,
    )


@get("/messages/{message_id:str}/reactions")
async def get_reactions(
    request: Request[Any, Any, Any], message_id: FromPath[str]
) -> Response[Any]:
    """GetReactions: a page of a message's reactions, newest first."""
    endpoint = "GetReactions"
    params = dict(request.query_params)
    page: dict[str, object] = {}
    for key in ("limit", "offset"):
        if key in params:
            if not params[key].isdigit():
                raise input_error(endpoint, f"{key} must be a number")
            page[key] = int(params[key])
    state = control_of(request).state
    found = state.reactions(
        message_id,
        limit=int_field(page, "limit", endpoint, default=10, low=1),
        offset=int_field(page, "offset", endpoint, default=0),
        as_user=_as_user(request),
    )
    return ok(request, {"reactions": [payloads.reaction(r, state.user) for r in found]}, 200)


# Stream pages threads by these too; the simulation refuses them rather than ignore them.
UNSUPPORTED_REPLIES_PARAMS: Final = frozenset(
    {"id_gte", "id_lte", "created_at_before", "created_at_after", "created_at_around", "sort"}
)


@get("/messages/{message_id:str}/replies")
async def get_replies(request: Request[Any, Any, Any], message_id: FromPath[str]) -> Response[Any]:
    """GetReplies: a page of a thread's replies, oldest first (`limit`, `id_lt`, `id_gt`)."""
    endpoint = "GetReplies"
    params = dict(request.query_params)
    unsupported = sorted(UNSUPPORTED_REPLIES_PARAMS & set(params))
    if unsupported:
        raise input_error(endpoint, f"the emulator pages replies by id_lt/id_gt, not {unsupported}")
    limit = params.get("limit", "10")
    if not limit.isdigit():
        raise input_error(endpoint, "limit must be a number")
    state = control_of(request).state
    found = state.replies(
        message_id,
        limit=int(limit),
        id_lt=params.get("id_lt"),
        id_gt=params.get("id_gt"),
        as_user=_as_user(request),
    )
    return ok(
        request,
        {"messages": [payloads.message(m, state.user, _as_user(request)) for m in found]},
        200,
    )


@get("/search")
async def search(request: Request[Any, Any, Any]) -> Response[Any]:
    """Search: `query` (whole words) and/or `message_filter_conditions`, within the
    channels `filter_conditions` selects (a user's own channels only); `sort`, and either
    `offset` or the `next`/`previous` cursors."""
    endpoint = "Search"
    payload = payload_param(request, endpoint)
    query = payload.get("query")
    if query is not None and not isinstance(query, str):
        raise input_error(endpoint, "query must be a string")
    message_filter = object_field(payload, "message_filter_conditions", endpoint)
    cursor = payload.get("next") or payload.get("previous")
    if payload.get("offset") and (payload.get("sort") or cursor):
        raise input_error(endpoint, "cannot use offset with sort or next/previous")
    limit = int_field(payload, "limit", endpoint, default=20, low=1, high=MAX_SEARCH_LIMIT)
    sort = payload.get("sort")
    if cursor:
        offset, sort = message_search.from_cursor(endpoint, cursor)
    else:
        offset = int_field(payload, "offset", endpoint, default=0)
    conditions = object_field(payload, "filter_conditions", endpoint) or {}
    state = control_of(request).state
    reader = _as_user(request)
    # One more than asked: whether a next page exists.
    hits = state.search_messages(
        conditions,
        query,
        message_filter=message_filter,
        sort=sort,
        limit=limit + 1,
        offset=offset,
        as_user=reader,
    )
    results = [
        {
            "message": {
                **payloads.message(message, state.user, reader),
                "channel": payloads.channel(channel, state.user),
            }
        }
        for channel, message in hits[:limit]
    ]
    answer: dict[str, object] = {"results": results}
    if payload.get("sort") or cursor or payload.get("limit"):
        more = len(hits) > limit
        answer["next"] = message_search.cursor(offset + limit, sort) if more else None
        answer["previous"] = message_search.cursor(max(offset - limit, 0), sort) if offset else None
    return ok(request, answer, 200)


ROUTES: Final = [
    send_message,
    query_message_history,
    commit_message,
    get_message,
    update_message,
    update_message_partial,
    delete_message,
    send_reaction,
    delete_reaction,
    get_reactions,
    get_replies,
    search,
]
