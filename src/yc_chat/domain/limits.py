"""Product limits: every pattern, size, range, cap and default the contract fixes, in one place.

Adapters keep their own capacity (Stream's batch and page sizes, a push provider's batch)
to themselves, and refuse what exceeds it with a provider error, never a client 400.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Final

# Channel ids (contract: "Channel ids match ^[a-z0-9_-]{1,64}$", also what Stream accepts).
CHANNEL_ID_RULE: Final = "^[a-z0-9_-]{1,64}$"
CHANNEL_ID_PATTERN: Final = re.compile(r"^[a-z0-9_-]{1,64}\Z")

# Stream's rule for user ids: an id it refuses would fail every call naming that user.
STREAM_USER_ID_PATTERN: Final = re.compile(r"[A-Za-z0-9@_-]{1,255}")

# Any other id a client sends (users, orgs, appointments).
MAX_ID_LENGTH: Final = 256
MAX_URL_LENGTH: Final = 2048
MAX_CURSOR_LENGTH: Final = 1024

# Channel lists page no deeper than this offset (Stream's query_channels does not either).
MAX_LIST_OFFSET: Final = 1000

# Groups. Stream returns at most 100 members with a channel's state, so larger groups could
# not be shown (or checked) completely from one query.
MAX_GROUP_MEMBERS: Final = 100
MAX_GROUP_NAME: Final = 100
# A colleague DM is between exactly two people.
DM_MEMBERS: Final = 2
# GET /api/chat/channels/groups lists at most this many groups, read this many at a time.
MAX_ORG_GROUPS: Final = 1000
ORG_GROUPS_PAGE: Final = 100

# Page sizes: (default, maximum) per list.
CHANNELS_DEFAULT_LIMIT: Final = 30
CHANNELS_MAX_LIMIT: Final = 100
MEMBERS_DEFAULT_LIMIT: Final = 100
MEMBERS_MAX_LIMIT: Final = 500
SEARCH_DEFAULT_LIMIT: Final = 10
SEARCH_MAX_LIMIT: Final = 50

# Typeahead query length after trimming (and after folding, at least the minimum).
MIN_QUERY_LENGTH: Final = 2
MAX_QUERY_LENGTH: Final = 100

# Appointment chats open this many minutes before the appointment (configurable per chat
# by org staff within the range).
DEFAULT_ACTIVATION_MINUTES: Final = 5
MAX_ACTIVATION_MINUTES: Final = 1440
# CHAT_AUTO_END_MINUTES may end chats at most a week after the appointment.
MAX_AUTO_END_MINUTES: Final = 7 * 24 * 60

# Stream user tokens (CHAT_TOKEN_TTL).
DEFAULT_TOKEN_TTL: Final = timedelta(hours=24)
MIN_TOKEN_TTL: Final = timedelta(minutes=1)
MAX_TOKEN_TTL: Final = timedelta(days=30)

# Push devices.
DEVICE_PLATFORMS: Final = ("ios", "android", "web")
# 4 KB of UTF-8: FCM tokens are ~160 bytes, Expo's ~50; more is not a push token.
MAX_DEVICE_TOKEN_BYTES: Final = 4096
# Registering an 11th drops the oldest, so one user cannot fan a message out to thousands.
MAX_DEVICES_PER_USER: Final = 10
# A push notification's body: the message text cut to this many characters.
PUSH_BODY_LIMIT: Final = 100

# Offboarding reads a person's channels in an org this many per provider query, and one
# run (a request, or one worker pass over the job) makes at most this many provider calls;
# the job resumes where a run stopped.
OFFBOARD_PAGE: Final = 30
OFFBOARD_CALL_BUDGET: Final = 60

# Text read back from the chat provider is untrusted (anyone with a Stream token can write
# some): it is cut to these lengths before it is shown. Stream's own message limit is 5,000.
MAX_PROVIDER_TEXT: Final = 5000
MAX_PROVIDER_NAME: Final = 1000

# Request bodies nest arrays and objects at most this deep (deeper is a 400).
MAX_JSON_DEPTH: Final = 32
