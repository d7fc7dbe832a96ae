"""Stream features the emulator leaves out, refused clearly rather than answered with 404.

Moderation (flags, bans, review queues, blocklists), imports and exports, campaigns and
segments, reminders and drafts, live locations, translation, usage statistics, push
provider checks and commands: each path answers 400 / code 4 "… is not supported by the
emulator", in Stream's error shape, so a caller knows it reached a real limit of the
emulator and not a typo.
"""

from __future__ import annotations

from typing import Any, Final

from litestar import HttpMethod, Request, Response, route

from stream_emulator.state.errors import input_error

METHODS: Final = [
    HttpMethod.GET,
    HttpMethod.POST,
    HttpMethod.PUT,
    HttpMethod.PATCH,
    HttpMethod.DELETE,
]

# Feature name → the paths of Stream's API that belong to it (as the SDKs call them).
FEATURES: Final[dict[str, list[str]]] = {
    "moderation": [
        "/moderation/ban",
        "/moderation/flag",
        "/moderation/unflag",
        "/moderation/flags/message",
        "/moderation/reports",
        "/moderation/reports/{report_id:str}",
        "/query_banned_users",
        "/blocklists",
        "/blocklists/{name:str}",
    ],
    "imports and exports": [
        "/export_channels",
        "/export_channels/{task_id:str}",
        "/export/users",
        "/users/{user_id:str}/export",
        "/imports",
        "/imports/{import_id:str}",
        "/import_urls",
    ],
    "campaigns": [
        "/campaigns",
        "/campaigns/query",
        "/campaigns/{campaign_id:str}",
        "/campaigns/{campaign_id:str}/{action:str}",
        "/segments",
        "/segments/query",
        "/segments/{segment_id:str}",
    ],
    "reminders": ["/messages/{message_id:str}/reminders", "/reminders/query"],
    "drafts": ["/drafts/query", "/channels/{channel_type:str}/{channel_id:str}/draft"],
    "live locations": ["/users/live_locations"],
    "translation": ["/messages/{message_id:str}/translate"],
    "usage statistics": ["/stats/team_usage"],
    "push provider checks": [
        "/check_push",
        "/check_sns",
        "/check_sqs",
        "/push_providers",
        "/push_providers/{provider_type:str}/{name:str}",
    ],
    "commands": [
        "/commands",
        "/commands/{name:str}",
        "/messages/{message_id:str}/action",
    ],
}


def _refusal(feature: str) -> Any:
    async def refuse(request: Request[Any, Any, Any]) -> Response[Any]:
        raise input_error(
            f"{request.method} {request.url.path}",
            f"{feature} is not supported by the emulator",
        )

    refuse.__name__ = f"refuse_{feature.replace(' ', '_')}"
    return route(FEATURES[feature], http_method=METHODS, status_code=400)(refuse)


ROUTES: Final = [_refusal(feature) for feature in FEATURES]
