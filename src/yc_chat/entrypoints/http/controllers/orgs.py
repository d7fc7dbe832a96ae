"""Org directory reads: typeahead search and the member list."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Annotated

import msgspec
from litestar import Controller, delete, get
from litestar.enums import ScopeType
from litestar.params import FromPath, QueryParameter
from litestar.types import ASGIApp, Receive, Scope, Send

from yc_chat.domain.limits import (
    MAX_QUERY_LENGTH,
    MEMBERS_DEFAULT_LIMIT,
    MEMBERS_MAX_LIMIT,
    MIN_QUERY_LENGTH,
    SEARCH_DEFAULT_LIMIT,
    SEARCH_MAX_LIMIT,
)
from yc_chat.domain.model import Member, OrgId, UserId
from yc_chat.domain.queries import ListedMembers
from yc_chat.domain.service import ChatService
from yc_chat.domain.usecases import MembersPage
from yc_chat.entrypoints.http.deps import AUTHED, Caller, Service, error_docs
from yc_chat.entrypoints.http.keys import STATE_RUNTIME
from yc_chat.entrypoints.http.raw_answer import send_json
from yc_chat.entrypoints.http.schemas import (
    MemberOut,
    MembersResponse,
    SearchResponse,
    SuccessResponse,
)

QUERY_DOC = f"{MIN_QUERY_LENGTH}..{MAX_QUERY_LENGTH} characters after trimming."
SEARCH_LIMIT_DOC = f"1..{SEARCH_MAX_LIMIT}, {SEARCH_DEFAULT_LIMIT}."
MEMBERS_LIMIT_DOC = f"1..{MEMBERS_MAX_LIMIT}, {MEMBERS_DEFAULT_LIMIT}."


def member_out(member: Member) -> MemberOut:
    """A member as other members see them."""
    user = member.user
    return MemberOut(
        id=user.id, name=user.name, email=user.email, image=user.image, role=member.role
    )


async def search_answer(
    service: ChatService, caller: str, org_id: str, text: str | None, limit: int | None
) -> SearchResponse:
    """GET .../search's answer (the handler's and OrgReadAnswerer's)."""
    members = await service.search_colleagues(
        caller=UserId(caller), org_id=OrgId(org_id), query=text or "", limit=limit
    )
    return SearchResponse(results=[member_out(member) for member in members])


async def members_answer(
    service: ChatService, caller: str, org_id: str, limit: int | None, cursor: str | None
) -> MembersResponse:
    """GET .../members's answer (the handler's)."""
    page = await service.list_org_members(
        caller=UserId(caller), org_id=OrgId(org_id), limit=limit, cursor=cursor
    )
    return MembersResponse(
        members=[member_out(member) for member in page.members], next_cursor=page.next_cursor
    )


def members_body(page: MembersPage) -> bytes:
    """GET .../members's answer encoded, as Litestar encodes `members_answer`'s. A store's
    ListedMembers come with their JSON written as MemberOut's (keys, order, nulls): copied
    as they are, without a record per member."""
    listed = page.members
    if isinstance(listed, ListedMembers):
        cursor = msgspec.json.encode(page.next_cursor)
        return b'{"members":%b,"nextCursor":%b}' % (listed.json, cursor)
    return msgspec.json.encode(
        MembersResponse(
            members=[member_out(member) for member in listed], next_cursor=page.next_cursor
        )
    )


# Query strings OrgReadAnswerer reads itself: unreserved characters only (nothing to
# decode, so nothing Litestar could read differently), each parameter at most once, the
# limit plain digits. Anything else takes Litestar's path, whose answers (and 400s) these are.
_PLAIN_QUERY = re.compile(
    r"[A-Za-z0-9._~-]+=[A-Za-z0-9._~-]*(?:&[A-Za-z0-9._~-]+=[A-Za-z0-9._~-]*)*"
)
_PLAIN_LIMIT = re.compile(r"0|[1-9][0-9]{0,3}")
_OPT_READ = "yc_org_read"
Reader = Callable[[ChatService, str, str, dict[str, str]], Awaitable[bytes]]


def _query(raw: bytes, names: frozenset[str]) -> dict[str, str] | None:
    if not raw:
        return {}
    text = raw.decode("latin-1")
    if not _PLAIN_QUERY.fullmatch(text):
        return None
    params: dict[str, str] = {}
    for pair in text.split("&"):
        name, _, value = pair.partition("=")
        if name not in names or name in params:
            return None
        params[name] = value
    limit = params.get("limit")
    if limit is not None and not _PLAIN_LIMIT.fullmatch(limit):
        return None
    return params


def _limit(params: dict[str, str]) -> int | None:
    return int(params["limit"]) if "limit" in params else None


async def _search(service: ChatService, caller: str, org: str, q: dict[str, str]) -> bytes:
    answer = await search_answer(service, caller, org, q.get("query"), _limit(q))
    return msgspec.json.encode(answer)


async def _members(service: ChatService, caller: str, org: str, q: dict[str, str]) -> bytes:
    page = await service.list_org_members(
        caller=UserId(caller), org_id=OrgId(org), limit=_limit(q), cursor=q.get("cursor")
    )
    return members_body(page)


_READERS: dict[str, tuple[frozenset[str], Reader]] = {
    "search": (frozenset({"query", "limit"}), _search),
    "members": (frozenset({"limit", "cursor"}), _members),
}


class OrgReadAnswerer:
    """Answers the typeahead and member pages from the end of the middleware chain
    (pipeline.py), after authentication and rate limits, for plain query strings.

    Litestar's own work per request (its Request, the keyword arguments from the query,
    the dependencies, the handler's Response and its encoding) was about a fifth of a
    typeahead. The answer is the same use case's the handler calls, encoded by msgspec as
    Litestar encodes it (a member page a store listed as JSON: copied, `members_body`);
    errors are raised as from the handler, so Litestar's exception handlers answer them;
    X-Request-ID and the access line come from `before_send`.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        read = scope["route_handler"].opt.get(_OPT_READ)
        caller = scope.get("user")
        if read is None or scope["method"] != "GET" or not isinstance(caller, str):
            await self.app(scope, receive, send)
            return
        names, reader = _READERS[read]
        params = _query(scope.get("query_string", b""), names)
        if params is None:
            await self.app(scope, receive, send)
            return
        service = scope["app"].state[STATE_RUNTIME].service
        body = await reader(service, caller, scope["path_params"]["orgId"], params)
        await send_json(send, body)


# Path parameters keep the contract's camelCase names, so the OpenAPI document matches it.
class OrgController(Controller):
    """Reads of an org's directory, for its members; offboarding, for its admins."""

    path = "/api/orgs/{orgId:str}"
    tags = ("orgs",)

    @get(
        "/search",
        operation_id="searchOrgMembers",
        response_description="Matching members of the org, best match first",
        summary="Typeahead over the org's members",
        description="Case- and accent-insensitive prefix match on any word of the name, or on "
        "the email. The caller is left out.",
        responses=error_docs(*AUTHED, 403, 404),
        opt={_OPT_READ: "search"},
    )
    async def search(
        self,
        orgId: FromPath[str],
        caller: Caller,
        service: Service,
        text: Annotated[
            str | None,
            QueryParameter(name="query", description=QUERY_DOC),
        ] = None,
        limit: Annotated[
            int | None, QueryParameter(name="limit", description=SEARCH_LIMIT_DOC)
        ] = None,
    ) -> SearchResponse:
        """Search the org's members."""
        return await search_answer(service, caller, orgId, text, limit)

    @get(
        "/members",
        operation_id="listOrgMembers",
        response_description="One page of the org's members by name and the cursor of the next",
        summary="The org's members by name, paginated",
        responses=error_docs(*AUTHED, 403, 404),
        opt={_OPT_READ: "members"},
    )
    async def members(
        self,
        orgId: FromPath[str],
        caller: Caller,
        service: Service,
        limit: Annotated[
            int | None, QueryParameter(name="limit", description=MEMBERS_LIMIT_DOC)
        ] = None,
        cursor: Annotated[str | None, QueryParameter(name="cursor")] = None,
    ) -> MembersResponse:
        """List the org's members."""
        return await members_answer(service, caller, orgId, limit, cursor)

    @delete(
        "/members/{userId:str}",
        operation_id="removeOrgMember",
        response_description="The person is out of the org and its staff chats",
        summary="Remove a member from the org and from all of its staff chats (offboarding)",
        description="Org admins only. Removes the membership, then takes the person out of "
        "every group of the org (one system message each), ends and freezes their colleague "
        "DMs in the org and takes them out of the org's appointment chats where they are the "
        "vet. Their chats as a pet owner and in other orgs stay. Every Stream token issued to "
        "them before the removal is revoked. The request does a bounded amount of Stream "
        "work and answers; the worker finishes the rest. Calling it again finishes an "
        "offboarding that stopped halfway; with nothing left to do it is 404. Only an owner "
        "may remove an owner (403 `owner_only`); the org's last owner or admin cannot be "
        "removed, not even by themselves (409 `last_admin`).",
        status_code=200,
        responses=error_docs(*AUTHED, 403, 404, 409, 502, 503),
    )
    async def remove_member(
        self, orgId: FromPath[str], userId: FromPath[str], caller: Caller, service: Service
    ) -> SuccessResponse:
        """Offboard the member."""
        await service.remove_org_member(caller=caller, org_id=OrgId(orgId), user_id=UserId(userId))
        return SuccessResponse(success=True)
