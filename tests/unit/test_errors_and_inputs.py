"""The error catalog, cursors and input validation helpers."""

from __future__ import annotations

import inspect

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yc_chat.domain import errors
from yc_chat.domain.cursors import decode_key, decode_offset, encode_key, encode_offset
from yc_chat.domain.errors import ChatError, InvalidInput
from yc_chat.domain.model import ChatStatus, UserId, later_status
from yc_chat.domain.queries import MemberKey
from yc_chat.domain.validation import Problems

CONTRACT_STATUSES = {400, 401, 403, 404, 409, 413, 429, 502, 503}


def test_every_error_class_maps_to_one_contract_status_and_a_snake_case_code() -> None:
    classes = [
        obj
        for obj in vars(errors).values()
        if inspect.isclass(obj) and issubclass(obj, ChatError) and obj is not ChatError
    ]
    assert len(classes) >= 10
    for cls in classes:
        assert cls.status in CONTRACT_STATUSES
        assert cls.default_code.replace("_", "").isalpha()
        assert cls.default_code == cls.default_code.lower()
    codes = [value for name, value in vars(errors).items() if name.startswith("CODE_")]
    assert len(codes) == len(set(codes))
    assert all(code.replace("_", "").isalpha() and code.islower() for code in codes)


def test_retry_after_is_at_least_one_second() -> None:
    assert errors.RateLimited(retry_after=0).retry_after == 1
    assert errors.ProviderUnavailable(retry_after=7).retry_after == 7


@given(st.integers(min_value=0, max_value=1000))
def test_offset_cursor_round_trips(offset: int) -> None:
    assert decode_offset(encode_offset(offset)) == offset


@given(st.builds(MemberKey, sort_name=st.text(max_size=50), user_id=st.text(max_size=50)))
def test_key_cursor_round_trips(key: MemberKey) -> None:
    assert decode_key(encode_key(key)) == key


def _outcome(decode: object, garbage: str) -> str:
    try:
        decode(garbage)  # type: ignore[operator]
    except InvalidInput as exc:
        return exc.details[0].field  # type: ignore[union-attr]
    return "accepted"


@given(st.text(max_size=200))
def test_garbage_cursors_are_invalid_input_never_a_crash(garbage: str) -> None:
    # Other exception types would escape and fail the test; rare valid encodings are fine.
    for decode in (decode_offset, decode_key):
        assert _outcome(decode, garbage) in {"cursor", "accepted"}


def test_cursor_from_the_other_kind_or_negative_is_rejected() -> None:
    with pytest.raises(InvalidInput):
        decode_offset(encode_key(MemberKey(sort_name="a", user_id=UserId("b"))))
    with pytest.raises(InvalidInput):
        decode_key(encode_offset(3))
    with pytest.raises(InvalidInput):
        decode_offset(encode_offset(-1))
    assert decode_offset(None) == 0
    assert decode_key(None) is None


def test_problems_collects_every_field_before_raising() -> None:
    problems = Problems()
    problems.identifier("a", "")
    problems.identifier("b", None)
    problems.int_range("c", 9, 0, 5)
    problems.https_url("d", "http://x.example")
    problems.https_url("e", "javascript:alert(1)")
    problems.channel_id("f", "Bad Id")
    problems.channel_id("g", "dm_squatted", client_chosen=True)
    problems.identifier("h", "x\x00y")
    with pytest.raises(InvalidInput) as caught:
        problems.check()
    assert [d.field for d in caught.value.details] == ["a", "b", "c", "d", "e", "f", "g", "h"]
    Problems().check()  # nothing collected, nothing raised


def test_https_url_accepts_https_only() -> None:
    ok = Problems()
    ok.https_url("image", "https://cdn.example/a.png")
    ok.check()


def test_chat_status_only_moves_forward() -> None:
    assert later_status(None, ChatStatus.PENDING) is ChatStatus.PENDING
    assert later_status(ChatStatus.ACTIVE, ChatStatus.PENDING) is ChatStatus.ACTIVE
    assert later_status(ChatStatus.ENDED, ChatStatus.ACTIVE) is ChatStatus.ENDED
    assert later_status(ChatStatus.PENDING, ChatStatus.ENDED) is ChatStatus.ENDED


def test_fixture_parses_enums_as_enums_and_rejects_unknown_kinds() -> None:
    from yc_chat.domain.model import UserKind
    from yc_chat.entrypoints.fixture import FixtureError, parse_fixture

    fixture = parse_fixture({"users": [{"id": "p", "name": "P", "kind": "pet_owner"}]})
    assert fixture.users[0].kind is UserKind.PET_OWNER
    with pytest.raises(FixtureError, match="kind"):
        parse_fixture({"users": [{"id": "p", "name": "P", "kind": "alien"}]})


def test_statuses_a_status_may_replace_never_include_a_later_one() -> None:
    from yc_chat.domain.model import statuses_up_to

    assert statuses_up_to(ChatStatus.PENDING) == (ChatStatus.PENDING,)
    assert statuses_up_to(ChatStatus.ACTIVE) == (ChatStatus.PENDING, ChatStatus.ACTIVE)
    assert ChatStatus.ENDED in statuses_up_to(ChatStatus.ENDED)
    for status in ChatStatus:
        for earlier in statuses_up_to(status):
            assert later_status(earlier, status) is status


def test_problems_name_fields_in_the_domains_words() -> None:
    problems = Problems()
    problems.identifiers("member_ids", ["vet-1", " "], max_items=2)
    with pytest.raises(InvalidInput) as caught:
        problems.check()
    # Edges rename `field` and the detail fields; the domain never spells a wire name.
    assert caught.value.field == "member_ids[1]"
    assert caught.value.message == "member_ids[1]: must not be blank"
    assert [(d.field, d.message) for d in caught.value.details if not isinstance(d, str)] == [
        ("member_ids[1]", "must not be blank")
    ]


def test_fixture_roles_include_every_admin_role() -> None:
    from yc_chat.domain.model import ADMIN_ROLES
    from yc_chat.entrypoints.fixture import STANDARD_ROLES

    # A role the fixture refuses could never be an admin; every admin role must be accepted.
    assert set(STANDARD_ROLES) >= ADMIN_ROLES
