"""POST /api/chat/token reuses the caller's Stream token (issue 22), from the outside: the
same token while more than half its lifetime remains, `expiresAt` exactly its `exp`, never
another user's, and never one an offboarding revoked."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt

from stream_emulator.state.users import revoked
from tests.support.world import WEBHOOK_SECRET, World, assert_error, bearer, make_token

LIFETIME = timedelta(hours=24)  # CHAT_TOKEN_TTL in the test world


def _claims(answer: dict[str, Any]) -> dict[str, Any]:
    # The test world's Stream app signs with WEBHOOK_SECRET (its API secret).
    return jwt.decode(
        answer["token"], WEBHOOK_SECRET, algorithms=["HS256"],
        options={"verify_exp": False, "verify_iat": False},
    )  # fmt: skip


async def _token(world: World, user: str) -> dict[str, Any]:
    response = await world.post("/api/chat/token", user, {"userId": user})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    claims = _claims(answer)
    assert claims["user_id"] == user
    assert answer["expiresAt"] == claims["exp"] * 1000  # exact, reused or not
    return answer


async def test_the_same_token_while_more_than_half_its_lifetime_remains(world: World) -> None:
    first = await _token(world, "vet-1")
    world.clock.advance(LIFETIME / 2 - timedelta(seconds=1))
    assert await _token(world, "vet-1") == first
    world.clock.advance(timedelta(seconds=1))
    fresh = await _token(world, "vet-1")
    assert fresh["token"] != first["token"]
    assert fresh["expiresAt"] == first["expiresAt"] + LIFETIME / timedelta(milliseconds=1) / 2


async def test_a_kept_token_never_reaches_another_user_or_org(world: World) -> None:
    mine = await _token(world, "vet-1")
    # Asking for someone else's token is refused, kept token or not, and shows none.
    for victim in ("vet-1", "vet-x"):
        response = await world.post("/api/chat/token", "vet-2", {"userId": victim})
        assert_error(response, 403, "not_caller")
        assert mine["token"] not in response.text
    # Each caller, in this org or another, gets a token of their own.
    tokens = {user: (await _token(world, user))["token"] for user in ("vet-2", "vet-x")}
    assert len({mine["token"], *tokens.values()}) == 3
    # A caller token signed with another key reuses nothing: 401 before any lookup.
    forged = make_token("vet-1", secret="not-the-secret-" + "z" * 40)
    response = await world.client.post(
        "/api/chat/token", json={"userId": "vet-1"}, headers={"Authorization": f"Bearer {forged}"}
    )
    assert response.status_code == 401
    assert mine["token"] not in response.text


async def test_an_offboarding_revokes_the_kept_token(world: World) -> None:
    before = await _token(world, "vet-2")
    other = await _token(world, "vet-1")
    response = await world.client.delete("/api/orgs/org-1/members/vet-2", headers=bearer("admin-1"))
    assert response.status_code == 200
    cut_off = world.state.tokens_revoked_before("vet-2")
    assert revoked(_claims(before)["iat"], cut_off)  # Stream refuses the old one
    # At once: not reused but signed anew (in the removal's second, so as refused as the
    # old one: token times are whole seconds; the client asks again a second later).
    signed = world.chat.calls["issue_user_token"]
    await _token(world, "vet-2")
    assert world.chat.calls["issue_user_token"] == signed + 1
    # Later: never the revoked token again.
    world.clock.advance(timedelta(seconds=2))
    after = await _token(world, "vet-2")
    assert after["token"] != before["token"]
    assert not revoked(_claims(after)["iat"], world.state.tokens_revoked_before("vet-2"))
    # Then that one is kept, and someone else's kept token was never touched.
    assert await _token(world, "vet-2") == after
    assert await _token(world, "vet-1") == other
