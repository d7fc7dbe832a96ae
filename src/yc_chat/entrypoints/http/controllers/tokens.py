"""POST /api/chat/token."""

from __future__ import annotations

from litestar import Controller, post
from litestar.datastructures import CacheControlHeader
from litestar.params import JSONBody

from yc_chat.domain.model import UserId
from yc_chat.entrypoints.http.body import StrictBody
from yc_chat.entrypoints.http.deps import WRITES, Caller, Service, epoch_ms, error_docs
from yc_chat.entrypoints.http.keys import OPT_OWN_BUDGET, OPT_TOKEN_BUDGET
from yc_chat.entrypoints.http.schemas import TokenRequest, TokenResponse


class TokenController(Controller):
    """Stream user tokens."""

    path = "/api/chat"
    tags = ("tokens",)

    @post(
        "/token",
        operation_id="issueChatToken",
        response_description="A Stream user token, its expiry, and where to connect",
        summary="Get a Stream user token for the caller",
        description="Only for the caller's own id. Rate limited per user and per client "
        "address (only authenticated requests count).",
        status_code=200,
        dto=StrictBody[TokenRequest],
        return_dto=None,
        opt={OPT_OWN_BUDGET: True, OPT_TOKEN_BUDGET: True},
        # A bearer credential: no browser or proxy cache may keep it.
        cache_control=CacheControlHeader(no_store=True),
        responses=error_docs(*WRITES, 403, 404, 429),
    )
    async def issue_token(
        self, data: JSONBody[TokenRequest], caller: Caller, service: Service
    ) -> TokenResponse:
        """Mint a Stream token for the caller."""
        token = await service.connect_user(caller=caller, user_id=UserId(data.user_id))
        return TokenResponse(
            token=token.token,
            expires_at=epoch_ms(token.expires_at),
            api_key=token.access.api_key,
            base_url=token.access.base_url,
        )
