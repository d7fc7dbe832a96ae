"""The emulator's HTTP routes, one module per Stream resource.

A new endpoint goes into the module of its resource (or a new module for a new resource,
listed here); each module lists its handlers in `ROUTES`.
"""

from typing import Final

from yc_chat.entrypoints.stream_emulator.routes import (
    admin,
    app_settings,
    channels,
    live,
    members,
    messages,
    moderation,
    uploads,
    users,
    visibility,
)

ROUTES: Final = [
    *app_settings.ROUTES,
    *users.ROUTES,
    *channels.ROUTES,
    *messages.ROUTES,
    *members.ROUTES,
    *live.ROUTES,
    *uploads.ROUTES,
    *admin.ROUTES,
    *visibility.ROUTES,
    *moderation.ROUTES,
]
