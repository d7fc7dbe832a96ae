"""The user operations of the simulated Stream API: upsert, get, partial update, query."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Final

import attrs

from stream_emulator.state import events, filters
from stream_emulator.state.errors import does_not_exist, id_list, input_error
from stream_emulator.state.parsing import (
    MAX_QUERY_USERS_LIMIT,
    MAX_USERS_PER_UPSERT,
    READ_ONLY_USER_FIELDS,
    check_page,
    optional_str,
    parse_user,
)
from stream_emulator.state.records import DEFAULT_USER_ROLE, StreamUser
from stream_emulator.state.store import Store

# The user field Stream's revoke-by-issued-at sets (`revoke_user_token` in the SDKs).
REVOKE_FIELD: Final = "revoke_tokens_issued_before"


def _revocation_time(endpoint: str, value: object) -> datetime | None:
    """The cut-off from a partial update: an RFC 3339 time, or null to undo the revoke."""
    if value is None:
        return None
    parsed: datetime | None = None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
    if parsed is None:
        raise input_error(endpoint, f"{REVOKE_FIELD} must be an RFC 3339 time or null")
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


# A revoked token's socket closes as on a restart: clients reconnect, are refused with
# code 40 and fetch a new token.
REVOKED_CLOSE_CODE: Final = 1012


def revoked(issued_at: float | None, cut_off: datetime | None) -> bool:
    """Whether a token with this `iat` is refused under the user's cut-off (a token without
    `iat` cannot prove it is newer)."""
    if cut_off is None:
        return False
    return issued_at is None or issued_at < cut_off.timestamp()


class UserOperations:
    """Stream's user endpoints over a `Store`; every operation raises `StreamAPIError`."""

    _store: Store

    def upsert_users(self, users: Sequence[Mapping[str, object]]) -> dict[str, StreamUser]:
        """Create or fully replace users (up to 100); the whole batch fails on any error."""
        endpoint = "UpdateUsers"
        self._store.faults.gate()
        if not users:
            raise input_error(endpoint, "users is a required field")
        if len(users) > MAX_USERS_PER_UPSERT:
            raise input_error(endpoint, f"users must contain at most {MAX_USERS_PER_UPSERT} items")
        now = self._store.now()
        parsed = [parse_user(endpoint, raw) for raw in users]
        result: dict[str, StreamUser] = {}
        updated: list[StreamUser] = []
        for user_id, role, name, image, custom in parsed:
            existing = self._store.users.get(user_id)
            user = StreamUser(
                id=user_id,
                role=role or DEFAULT_USER_ROLE,
                name=name,
                image=image,
                custom=custom,
                created_at=existing.created_at if existing is not None else now,
                updated_at=now,
                online=existing.online if existing is not None else False,
                last_active=existing.last_active if existing is not None else None,
                revoke_tokens_issued_before=(
                    existing.revoke_tokens_issued_before if existing is not None else None
                ),
            )
            self._store.users[user_id] = user
            result[user_id] = user
            if existing is not None:
                updated.append(user)
        for user in updated:
            self._store.events.emit(events.user_updated(user, now))
        return result

    def set_presence(self, user_id: str, *, online: bool) -> None:
        """The realtime side's report: the user connected (or is still active) or left.

        Not an API operation: it never fails and announces nothing itself.
        """
        user = self._store.users.get(user_id)
        if user is not None:
            self._store.users[user_id] = attrs.evolve(
                user, online=online, last_active=self._store.now()
            )

    def tokens_revoked_before(self, user_id: str) -> datetime | None:
        """When this user's tokens stop being accepted (issued before it), or None."""
        user = self._store.users.get(user_id)
        return user.revoke_tokens_issued_before if user is not None else None

    def get_user(self, user_id: str) -> StreamUser:
        """The user; 404 when there is none."""
        self._store.faults.gate()
        user = self._store.users.get(user_id)
        if user is None:
            raise does_not_exist("GetUser", f"user {user_id} does not exist")
        return user

    def partial_update_user(
        self,
        user_id: str,
        *,
        set_fields: Mapping[str, object] | None = None,
        unset: Sequence[str] = (),
    ) -> StreamUser:
        """Set and unset some of a user's fields, keeping the rest."""
        endpoint = "UpdateUsersPartial"
        self._store.faults.gate()
        user = self._store.users.get(user_id)
        if user is None:
            raise does_not_exist(endpoint, f"user {user_id} does not exist")
        to_set = dict(set_fields or {})
        if not to_set and not unset:
            raise input_error(endpoint, "set or unset must be given")
        both = sorted(set(to_set) & set(unset))
        if both:
            raise input_error(endpoint, f"fields cannot be both set and unset: {id_list(both)}")
        for key in [*to_set, *unset]:
            if key == "id" or key in READ_ONLY_USER_FIELDS:
                raise input_error(endpoint, f"field {key} cannot be updated")
        revoked_before = user.revoke_tokens_issued_before
        if REVOKE_FIELD in to_set:
            revoked_before = _revocation_time(endpoint, to_set.pop(REVOKE_FIELD))
        if REVOKE_FIELD in unset:
            revoked_before = None
        role = optional_str(endpoint, "role", to_set.pop("role", user.role))
        name = optional_str(endpoint, "name", to_set.pop("name", user.name))
        image = optional_str(endpoint, "image", to_set.pop("image", user.image))
        custom = {**user.custom, **to_set}
        for key in unset:
            if key == "role":
                role = DEFAULT_USER_ROLE
            elif key == "name":
                name = None
            elif key == "image":
                image = None
            elif key == REVOKE_FIELD:
                pass  # handled above
            else:
                custom.pop(key, None)
        now = self._store.now()
        updated = attrs.evolve(
            user,
            role=role or DEFAULT_USER_ROLE,
            name=name,
            image=image,
            custom=custom,
            updated_at=now,
            revoke_tokens_issued_before=revoked_before,
        )
        self._store.users[user_id] = updated
        self._store.events.emit(events.user_updated(updated, now))
        return updated

    def query_users(
        self,
        filter_conditions: Mapping[str, object],
        *,
        limit: int = 30,
        offset: int = 0,
    ) -> list[StreamUser]:
        """Users by id (`id` with `$eq`/`$in` or plain equality), in creation order."""
        endpoint = "QueryUsers"
        self._store.faults.gate()
        check_page(endpoint, limit, offset, max_limit=MAX_QUERY_USERS_LIMIT)
        wanted = filters.user_ids_filter(endpoint, filter_conditions)
        found = [user for user in self._store.users.values() if user.id in wanted]
        return found[offset : offset + limit]
