"""Org directory reads: typeahead search and the member list."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get
from litestar.params import FromPath, QueryParameter

from yc_chat.domain.limits import (
    MAX_QUERY_LENGTH,
    MEMBERS_DEFAULT_LIMIT,
    MEMBERS_MAX_LIMIT,
    MIN_QUERY_LENGTH,
    SEARCH_DEFAULT_LIMIT,
    SEARCH_MAX_LIMIT,
)
from yc_chat.domain.model import Member, OrgId, UserId
from yc_chat.entrypoints.http.deps import AUTHED, Caller, Service, error_docs
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
        members = await service.search_colleagues(
            caller=caller, org_id=OrgId(orgId), query=text or "", limit=limit
        )
        return SearchResponse(results=[member_out(member) for member in members])

    @get(
        "/members",
        operation_id="listOrgMembers",
        response_description="One page of the org's members by name and the cursor of the next",
        summary="The org's members by name, paginated",
        responses=error_docs(*AUTHED, 403, 404),
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
        page = await service.list_org_members(
            caller=caller, org_id=OrgId(orgId), limit=limit, cursor=cursor
        )
        return MembersResponse(
            members=[member_out(member) for member in page.members],
            next_cursor=page.next_cursor,
        )

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
