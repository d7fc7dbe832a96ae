"""Invitations and moderators on the emulator (UpdateChannel's `invites`, `accept_invite`,
`reject_invite`, `add_moderators`, `demote_moderators`, `assign_roles`; `data.invites` at
creation), as Stream's OpenAPI describes them, through the official Python SDK."""

from __future__ import annotations

import pytest
from stream_chat import StreamChat
from stream_chat.base.exceptions import StreamAPIException

from stream_emulator import RunningEmulator
from tests.support.emulator import as_user, connected, frames
from tests.support.emulator import stream_emulator as stream_emulator  # the fixture


def member(answer: dict[str, object], user_id: str) -> dict[str, object]:
    members = answer["members"]
    assert isinstance(members, list)
    return next(m for m in members if m["user_id"] == user_id)


def refused_with(call: object, status: int, code: int) -> StreamAPIException:
    assert callable(call)
    with pytest.raises(StreamAPIException) as caught:
        call()
    assert (caught.value.status_code, caught.value.error_code) == (status, code), caught.value
    return caught.value


def test_an_invitee_is_a_member_flagged_invited_and_told_on_their_own_socket(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    channel = server.channel("messaging", "visit")
    with connected(emulator, "cleo") as (cleo, _):
        answer = channel.invite_members(["cleo", "sam"])
        notice = frames(cleo, "notification.invited")
    assert member(answer, "cleo")["invited"] is True
    assert member(answer, "sam")["invited"] is True  # already a member: flagged too
    assert "invited" not in member(answer, "ana")
    assert notice["member"]["user_id"] == "cleo" and notice["channel"]["cid"] == "messaging:visit"
    assert notice["cid"] == "messaging:visit"


def test_accepting_and_rejecting_record_the_answer_and_repeat_as_no_ops(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    channel = server.channel("team", "crew", {"members": ["ana"], "invites": ["sam", "cleo"]})
    created = channel.create("ana")
    assert member(created, "sam")["invited"] is True
    accepted = member(channel.accept_invite("sam"), "sam")
    assert accepted["invite_accepted_at"] and "invite_rejected_at" not in accepted
    again = member(channel.accept_invite("sam"), "sam")
    assert again["invite_accepted_at"] == accepted["invite_accepted_at"]
    with connected(emulator, "cleo") as (cleo, _):
        rejected = member(
            as_user(emulator, "cleo").channel("team", "crew").reject_invite("cleo"), "cleo"
        )
        assert frames(cleo, "notification.invite_rejected")["member"]["user_id"] == "cleo"
    assert rejected["invited"] is True and rejected["invite_rejected_at"]
    channel.reject_invite("cleo")
    # Never invited, not a member, someone else's invitation: refused, nothing changes.
    refused_with(lambda: channel.accept_invite("ana"), 400, 4)
    server.upsert_user({"id": "dan"})
    refused_with(lambda: channel.accept_invite("dan"), 400, 4)
    refused_with(
        lambda: as_user(emulator, "cleo").channel("team", "crew").accept_invite("sam"), 403, 17
    )
    assert "invited" not in member(channel.query(), "ana")


def test_invitations_need_existing_users_and_the_members_grant(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    channel = server.channel("messaging", "visit")
    refused_with(lambda: channel.invite_members(["nobody"]), 400, 4)
    refused_with(
        lambda: server.channel(
            "messaging", "new", {"members": ["ana"], "invites": ["ghost"]}
        ).create("ana"),
        400,
        4,
    )
    assert emulator.control.state.channel("messaging", "new") is None
    # sam is a member, not the owner: no UpdateChannelMembers by default.
    error = refused_with(
        lambda: as_user(emulator, "sam").channel("messaging", "visit").invite_members(["cleo"]),
        403,
        17,
    )
    assert "UpdateChannelMembers" in error.error_message
    visit = emulator.control.state.channel("messaging", "visit")
    assert visit is not None and visit.member("cleo") is None
    owner = as_user(emulator, "ana").channel("messaging", "visit").invite_members(["cleo"])
    assert member(owner, "cleo")["invited"] is True


def test_moderators_are_added_and_demoted(emulator: RunningEmulator, server: StreamChat) -> None:
    channel = server.channel("messaging", "visit")
    promoted = channel.add_moderators(["sam", "cleo"])
    assert member(promoted, "sam")["channel_role"] == "channel_moderator"
    assert member(promoted, "cleo")["is_moderator"] is True  # joined as a moderator
    demoted = channel.demote_moderators(["sam"])
    assert member(demoted, "sam")["channel_role"] == "channel_member"
    assert member(demoted, "sam")["is_moderator"] is False
    server.upsert_user({"id": "dan"})
    refused_with(lambda: channel.demote_moderators(["dan"]), 400, 4)
    refused_with(lambda: channel.add_moderators(["ghost"]), 400, 4)
    refused_with(
        lambda: as_user(emulator, "sam").channel("messaging", "visit").add_moderators(["sam"]),
        403,
        17,
    )
    # One kind of change per request.
    refused_with(
        lambda: server.post(
            "channels/messaging/visit", data={"add_moderators": ["sam"], "invites": ["sam"]}
        ),
        400,
        4,
    )


def test_assign_roles_changes_members_roles_only(server: StreamChat) -> None:
    channel = server.channel("messaging", "visit")
    answer = channel.assign_roles([{"user_id": "sam", "channel_role": "channel_moderator"}])
    assert member(answer, "sam")["channel_role"] == "channel_moderator"
    refused_with(
        lambda: channel.assign_roles([{"user_id": "cleo", "channel_role": "channel_member"}]),
        400,
        4,
    )
    refused_with(
        lambda: channel.assign_roles([{"user_id": "sam", "channel_role": "emperor"}]), 400, 4
    )
    refused_with(lambda: channel.assign_roles(["sam"]), 400, 4)  # type: ignore[list-item]
    assert member(channel.query(), "sam")["channel_role"] == "channel_moderator"
