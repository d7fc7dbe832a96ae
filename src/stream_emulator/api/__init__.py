"""Stream's HTTP and WebSocket API, one module per resource, over `stream_emulator.state`.

A new endpoint goes into the module of its resource (or a new module for a new resource,
listed here); each module lists its handlers in `ROUTES`. `request_response` reads what
every route reads (caller, body, typed fields) and answers as Stream does; `inputs` parses
Stream's REST input shapes; `connect` is the websocket.
"""

from typing import Final

from stream_emulator.api import (
    access_control,
    admin,
    app_settings,
    channel_actions,
    channel_batch,
    channel_types,
    channels,
    live,
    members,
    messages,
    moderation,
    threads,
    unsupported,
    uploads,
    user_actions,
    users,
    visibility,
)

ROUTES: Final = [
    *access_control.ROUTES,
    *app_settings.ROUTES,
    *channel_types.ROUTES,
    *users.ROUTES,
    *user_actions.ROUTES,
    *channels.ROUTES,
    *channel_actions.ROUTES,
    *channel_batch.ROUTES,
    *messages.ROUTES,
    *members.ROUTES,
    *live.ROUTES,
    *uploads.ROUTES,
    *admin.ROUTES,
    *visibility.ROUTES,
    *moderation.ROUTES,
    *threads.ROUTES,
    *unsupported.ROUTES,
]
