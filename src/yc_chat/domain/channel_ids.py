"""Channel id rules: valid ids match `limits.CHANNEL_ID_RULE`; ours are derived or random."""

from __future__ import annotations

import hashlib
import json
import secrets

from yc_chat.domain.limits import CHANNEL_ID_PATTERN
from yc_chat.domain.model import AppointmentId, ChannelId, OrgId, UserId

APPOINTMENT_PREFIX = "apt_"
DM_PREFIX = "dm_"
GROUP_PREFIX = "grp_"
# Derived ids live under these prefixes; client-chosen group ids may not, so nobody can
# pre-create the channel a future appointment chat or DM would resolve to.
RESERVED_PREFIXES = (APPOINTMENT_PREFIX, DM_PREFIX)
_DIGEST_HEX_CHARS = 40  # 160 bits: collisions are out of reach, the id stays under 64


def is_valid_channel_id(value: str) -> bool:
    """Whether Stream would accept `value` as a channel id."""
    return CHANNEL_ID_PATTERN.match(value) is not None


def is_reserved_channel_id(value: str) -> bool:
    """Whether `value` is in the namespace of derived (appointment/DM) ids."""
    return value.startswith(RESERVED_PREFIXES)


def _digest(parts: list[str]) -> str:
    # JSON framing keeps ("a-b", "c") and ("a", "b-c") apart; any alphabet is fine.
    encoded = json.dumps(parts, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()[:_DIGEST_HEX_CHARS]


def appointment_channel_id(appointment_id: AppointmentId) -> ChannelId:
    """The one channel id of an appointment's chat."""
    return ChannelId(APPOINTMENT_PREFIX + _digest(["appointment", appointment_id]))


def colleague_dm_channel_id(org_id: OrgId, a: UserId, b: UserId) -> ChannelId:
    """The one channel id of a DM between two colleagues of an org, in either order."""
    first, second = sorted((a, b))
    return ChannelId(DM_PREFIX + _digest(["dm", org_id, first, second]))


def random_group_channel_id() -> ChannelId:
    """A fresh group channel id."""
    return ChannelId(GROUP_PREFIX + secrets.token_hex(16))
