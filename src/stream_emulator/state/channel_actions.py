"""More channel operations, as Stream's: truncate, messages by id, a member's own settings
(custom data, pin, archive), channel roles, and batch deletes as completed tasks.

Truncating removes the channel's messages (a `truncated_at` time on the channel, announced
as `channel.truncated`) and may post a message afterwards. `update_member_partial` sets and
unsets a member's custom fields and its `pinned`/`archived` flags (the member's own view of
the channel, as the React kit's channel list reads them). Stream runs batch deletes as
tasks; the emulator runs them at once and keeps the finished task for `GET /tasks/{id}`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

import attrs

from stream_emulator.state import events, payloads
from stream_emulator.state.errors import does_not_exist, input_error
from stream_emulator.state.parsing import ASSIGNABLE_CHANNEL_ROLES, check_filter_tags
from stream_emulator.state.records import StreamChannel, StreamMember, StreamMessage
from stream_emulator.state.store import Store

# Member fields with a meaning of their own; the rest of `set` is custom data.
MEMBER_FLAGS = frozenset({"pinned", "archived"})
RESERVED_MEMBER_FIELDS = frozenset(
    {"user_id", "user", "channel_role", "created_at", "updated_at", "role", "banned"}
)
MAX_MESSAGES_BY_ID = 100


class ChannelActions:
    """Mixed into `StreamState`; every operation raises `StreamAPIError`."""

    _store: Store

    def truncate_channel(
        self,
        channel_type: str,
        channel_id: str,
        *,
        message: Mapping[str, object] | None = None,
    ) -> StreamChannel:
        """Remove every message of the channel, then post `message` if given."""
        endpoint = "TruncateChannel"
        self._store.faults.gate()
        channel = self._store.require_channel(endpoint, channel_type, channel_id)
        draft = self._store.parse_update_message(endpoint, message)
        now = self._store.now()
        key = (channel_type, channel_id)
        for old in self._store.messages.get(key, []):
            self._store.message_ids.discard(old.id)
        self._store.messages[key] = []
        channel = self._store.put(
            attrs.evolve(channel, data={**channel.data, "truncated_at": _iso(now)}, updated_at=now)
        )
        event = events.channel_updated(channel, self._store.users.get, now)
        event["type"] = "channel.truncated"
        channel_json = event["channel"]
        if isinstance(channel_json, dict):
            channel_json["members"] = [{"user_id": m.user_id} for m in channel.members]
        self._store.events.emit(event)
        return self._store.post_update_message(channel, draft, now)

    def messages_by_id(
        self, channel_type: str, channel_id: str, ids: Sequence[str]
    ) -> list[StreamMessage]:
        """The channel's messages with these ids (unknown ids are left out)."""
        endpoint = "GetManyMessages"
        self._store.faults.gate()
        if not ids or len(ids) > MAX_MESSAGES_BY_ID:
            raise input_error(endpoint, f"ids must name 1 to {MAX_MESSAGES_BY_ID} messages")
        self._store.require_channel(endpoint, channel_type, channel_id)
        wanted = set(ids)
        return [
            m for m in self._store.messages.get((channel_type, channel_id), []) if m.id in wanted
        ]

    def update_member_partial(
        self,
        channel_type: str,
        channel_id: str,
        user_id: str,
        *,
        set_fields: Mapping[str, object],
        unset: Sequence[str] = (),
    ) -> StreamMember:
        """Set and unset a member's custom fields and `pinned`/`archived` flags."""
        endpoint = "UpdateMemberPartial"
        self._store.faults.gate()
        channel = self._store.require_channel(endpoint, channel_type, channel_id)
        member = channel.member(user_id)
        if member is None:
            raise does_not_exist(endpoint, f"user {user_id} is not a member of {channel.cid}")
        now = self._store.now()
        custom = dict(member.custom)
        pinned_at, archived_at = member.pinned_at, member.archived_at
        for key, value in set_fields.items():
            if key in MEMBER_FLAGS:
                if not isinstance(value, bool):
                    raise input_error(endpoint, f"{key} must be a boolean")
                if key == "pinned":
                    pinned_at = (pinned_at or now) if value else None
                else:
                    archived_at = (archived_at or now) if value else None
            elif key in RESERVED_MEMBER_FIELDS:
                raise input_error(endpoint, f"field {key} cannot be changed here")
            else:
                custom[key] = value
        for key in unset:
            if key == "pinned":
                pinned_at = None
            elif key == "archived":
                archived_at = None
            elif key in RESERVED_MEMBER_FIELDS:
                raise input_error(endpoint, f"field {key} cannot be unset")
            else:
                custom.pop(key, None)
        updated = attrs.evolve(member, custom=custom, pinned_at=pinned_at, archived_at=archived_at)
        self._store.put(channel.with_member(updated))
        return updated

    def assign_channel_roles(
        self,
        channel_type: str,
        channel_id: str,
        roles: Mapping[str, str],
        *,
        message: Mapping[str, object] | None = None,
    ) -> StreamChannel:
        """Give members these channel roles (`channel_member` or `channel_moderator`)."""
        endpoint = "UpdateChannel"
        self._store.faults.gate()
        channel = self._store.require_channel(endpoint, channel_type, channel_id)
        draft = self._store.parse_update_message(endpoint, message)
        for user_id, role in roles.items():
            if role not in ASSIGNABLE_CHANNEL_ROLES:
                raise input_error(endpoint, f"channel_role {role} does not exist")
            member = channel.member(user_id)
            if member is None:
                raise input_error(endpoint, f"user {user_id} is not a member of {channel.cid}")
            channel = self._store.put(channel.with_member(attrs.evolve(member, channel_role=role)))
        now = self._store.now()
        self._store.events.emit(events.channel_updated(channel, self._store.users.get, now))
        return self._store.post_update_message(channel, draft, now)

    def change_filter_tags(
        self,
        channel_type: str,
        channel_id: str,
        *,
        add: Sequence[str] = (),
        remove: Sequence[str] = (),
        message: Mapping[str, object] | None = None,
    ) -> StreamChannel:
        """Add and remove the channel's filter tags (an ordered set); `channel.updated`."""
        endpoint = "UpdateChannel"
        self._store.faults.gate()
        channel = self._store.require_channel(endpoint, channel_type, channel_id)
        add, remove = check_filter_tags(endpoint, add), check_filter_tags(endpoint, remove)
        draft = self._store.parse_update_message(endpoint, message)
        removed = set(remove)
        kept = [t for t in dict.fromkeys((*channel.filter_tags, *add)) if t not in removed]
        now = self._store.now()
        channel = self._store.put(attrs.evolve(channel, filter_tags=tuple(kept), updated_at=now))
        self._store.events.emit(events.channel_updated(channel, self._store.users.get, now))
        return self._store.post_update_message(channel, draft, now)

    def delete_channels(self, cids: Sequence[str]) -> str:
        """Delete each channel (a task, finished at once); returns the task id."""
        endpoint = "DeleteChannels"
        self._store.faults.gate()
        if not cids:
            raise input_error(endpoint, "cids must name at least one channel")
        result: dict[str, object] = {}
        for cid in cids:
            channel_type, _, channel_id = cid.partition(":")
            if (channel_type, channel_id) not in self._store.channels:
                result[cid] = {"status": "error", "error": "channel does not exist"}
                continue
            self._store.remove_channel(self._store.channels[(channel_type, channel_id)])
            result[cid] = {"status": "ok"}
        return self.finished_task("delete-channels", result)

    def finished_task(self, kind: str, result: Mapping[str, object]) -> str:
        """Record a task that already completed with `result`; its id."""
        task_id = str(uuid.uuid4())
        now = _iso(self._store.now())
        self._store.tasks[task_id] = {
            "task_id": task_id,
            "status": "completed",
            "type": kind,
            "result": dict(result),
            "created_at": now,
            "updated_at": now,
        }
        return task_id

    def record_batch_task(
        self, operation: str, succeeded: int, failed: Mapping[str, Sequence[str]]
    ) -> str:
        """A channel batch update that ran: its finished task, announced as started and
        completed (Stream's ChannelBatchStartedEvent and ChannelBatchCompletedEvent)."""
        result: dict[str, object] = {
            "operation": operation,
            "success_channels_count": succeeded,
            "failed_channels": [
                {"reason": reason, "cids": list(cids)} for reason, cids in failed.items()
            ],
        }
        task_id = self.finished_task("channel-batch-update", result)
        now = _iso(self._store.now())
        for kind in ("started", "completed"):
            self._store.events.emit(
                {
                    "type": f"channel_batch_update.{kind}",
                    "task_id": task_id,
                    "status": kind,
                    "custom": {},
                    "batch_created_at": now,
                    "finished_at": now,
                    "created_at": now,
                    **result,
                }
            )
        return task_id

    def task(self, task_id: str) -> dict[str, object]:
        """A task by id (404 when unknown)."""
        self._store.faults.gate()
        found = self._store.tasks.get(task_id)
        if found is None:
            raise does_not_exist("GetTask", f"task {task_id} does not exist")
        return dict(found)


def _iso(value: datetime) -> str:
    return payloads.format_time(value)
