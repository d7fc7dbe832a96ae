"""The bundled demo clinic for `yc-chat serve --demo`: two orgs, staff, pet owners, appointments."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import attrs

from yc_chat.domain.channel_ids import appointment_channel_id
from yc_chat.domain.model import AppointmentId
from yc_chat.entrypoints.fixture import Fixture, parse_fixture

HAPPY_PAWS = "org-happypaws"
RIVERSIDE = "org-riverside"


@attrs.frozen(kw_only=True)
class DemoPersona:
    """Someone the printed curl commands act as."""

    user_id: str
    label: str


VET = DemoPersona(user_id="vet-ana", label="Dr. Ana Núñez, vet at Happy Paws")
PET_OWNER = DemoPersona(user_id="owner-sam", label="Sam Lee, pet owner")
ADMIN = DemoPersona(user_id="admin-maya", label="Dr. Maya Ortega, owner/admin of Happy Paws")
PERSONAS = (VET, PET_OWNER, ADMIN)


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def demo_fixture(now: datetime) -> Fixture:
    """The demo clinic, with appointments placed around `now` (aware)."""
    base = now.replace(second=0, microsecond=0)
    data: dict[str, Any] = {
        "orgs": [
            {"id": HAPPY_PAWS, "name": "Happy Paws Veterinary Clinic"},
            {"id": RIVERSIDE, "name": "Riverside Animal Hospital"},
        ],
        "users": [
            _staff("admin-maya", "Dr. Maya Ortega", "maya@happypaws.example"),
            _staff("admin-lena", "Lena Fischer", "lena@happypaws.example"),
            _staff("vet-ana", "Dr. Ana Núñez", "ana@happypaws.example"),
            _staff("vet-tom", "Dr. Tom O'Brien", "tom@happypaws.example"),
            _staff("nurse-priya", "Priya Shah", "priya@happypaws.example"),
            _staff("reception-chris", "Chris Park", "chris@happypaws.example"),
            _staff("owner-sofia", "Dr. Sofia Rossi", "sofia@riverside.example"),
            _staff("vet-kenji", "Dr. Kenji Watanabe", "kenji@riverside.example"),
            {"id": "owner-sam", "name": "Sam Lee", "kind": "pet_owner"},
            {"id": "owner-jordan", "name": "Jordan Müller", "kind": "pet_owner"},
            {"id": "owner-alex", "name": "Alex Kim", "kind": "pet_owner"},
        ],
        "memberships": [
            {"orgId": HAPPY_PAWS, "userId": "admin-maya", "role": "owner"},
            {"orgId": HAPPY_PAWS, "userId": "admin-lena", "role": "admin"},
            {"orgId": HAPPY_PAWS, "userId": "vet-ana", "role": "vet"},
            {"orgId": HAPPY_PAWS, "userId": "vet-tom", "role": "vet"},
            {"orgId": HAPPY_PAWS, "userId": "nurse-priya", "role": "nurse"},
            {"orgId": HAPPY_PAWS, "userId": "reception-chris", "role": "receptionist"},
            {"orgId": RIVERSIDE, "userId": "owner-sofia", "role": "owner"},
            {"orgId": RIVERSIDE, "userId": "vet-kenji", "role": "vet"},
            {"orgId": RIVERSIDE, "userId": "vet-ana", "role": "vet"},
        ],
        "appointments": [
            # Starts in 5 minutes: with the default 5-minute activation its chat opens now.
            _appointment("apt-now", HAPPY_PAWS, "owner-sam", "Sam Lee", "vet-ana", "Rex",
                         base + timedelta(minutes=5)),
            _appointment("apt-later", HAPPY_PAWS, "owner-jordan", "Jordan Müller", "vet-tom",
                         "Mochi", base + timedelta(hours=2)),
            _appointment("apt-tomorrow", RIVERSIDE, "owner-alex", "Alex Kim", "vet-kenji",
                         "Biscuit", base + timedelta(days=1)),
        ],
    }  # fmt: skip
    return parse_fixture(data)


def _staff(user_id: str, name: str, email: str) -> dict[str, Any]:
    return {"id": user_id, "name": name, "email": email, "kind": "staff"}


def _appointment(
    appointment_id: str,
    org_id: str,
    owner_id: str,
    owner_name: str,
    vet_id: str,
    pet: str,
    starts_at: datetime,
) -> dict[str, Any]:
    return {
        "id": appointment_id,
        "orgId": org_id,
        "petOwnerId": owner_id,
        "petOwnerName": owner_name,
        "vetId": vet_id,
        "petName": pet,
        "startsAt": _iso(starts_at),
    }


def _curl(base_url: str, token: str, method: str, path: str, body: str | None = None) -> str:
    parts = ["curl", "-s", "-X", method, base_url + path, "-H", f"Authorization: Bearer {token}"]
    if body is not None:
        parts += ["-H", "Content-Type: application/json", "-d", body]
    return " ".join(shlex.quote(part) for part in parts)


def demo_instructions(base_url: str, token_for: Callable[[str], str]) -> str:
    """Ready-to-paste curl commands for the vet, the pet owner and the org admin."""
    vet, owner, admin = (token_for(p.user_id) for p in PERSONAS)
    lines = [
        "",
        "yc-chat demo clinic is up at " + base_url + "  (in-memory: nothing is saved)",
        "OpenAPI: " + base_url + "/schema",
        "",
        f"# {VET.label}: a Stream token, the appointment chat opening now, her channels",
        _curl(base_url, vet, "POST", "/api/chat/token", '{"userId":"vet-ana"}'),
        _curl(base_url, vet, "POST", "/api/chat/channels", '{"appointmentId":"apt-now"}'),
        _curl(base_url, vet, "GET", "/api/chat/channels"),
        "",
        f"# {PET_OWNER.label}: a Stream token and his chats as a pet owner",
        _curl(base_url, owner, "POST", "/api/chat/token", '{"userId":"owner-sam"}'),
        _curl(base_url, owner, "GET", "/api/chat/channels?role=pet-owner"),
        "",
        f"# {ADMIN.label}: search colleagues, list members, create a group",
        _curl(base_url, admin, "GET", f"/api/orgs/{HAPPY_PAWS}/search?query=an"),
        _curl(base_url, admin, "GET", f"/api/orgs/{HAPPY_PAWS}/members"),
        _curl(
            base_url,
            admin,
            "POST",
            "/api/chat/channels/group",
            f'{{"orgId":"{HAPPY_PAWS}","name":"Front desk",'
            '"memberIds":["vet-ana","nurse-priya"],"createdBy":"admin-maya"}',
        ),
        "",
    ]
    return "\n".join(lines)


def console_config(token_for: Callable[[str], str]) -> dict[str, object]:
    """What the clinic console page needs: its two people, their bearer tokens, the chat."""
    return {
        "appointmentId": "apt-now",
        # The vet's colleague chats the page opens, so every audience shows in her list.
        "orgId": HAPPY_PAWS,
        "colleagueId": "nurse-priya",
        "group": {"channelId": "front-desk", "name": "Front desk"},
        "personas": [
            {"key": "vet", "userId": VET.user_id, "label": VET.label, "mayEnd": True,
             "bearer": token_for(VET.user_id)},
            {"key": "owner", "userId": PET_OWNER.user_id, "label": PET_OWNER.label,
             "mayEnd": False, "bearer": token_for(PET_OWNER.user_id)},
        ],
    }  # fmt: skip


# Prints a token from the JSON answer; python3 is there wherever yc-chat runs.
_PRINT_JSON_FIELD = "python3 -c 'import json,sys; print(json.load(sys.stdin)[\"token\"])'"


def message_walkthrough(base_url: str, owner_token: str, *, stream_url: str, api_key: str) -> str:
    """The message -> webhook -> push path, as commands: the owner writes through Stream."""
    channel = appointment_channel_id(AppointmentId("apt-now"))
    token_call = _curl(base_url, owner_token, "POST", "/api/chat/token", '{"userId":"owner-sam"}')
    send = " ".join(
        shlex.quote(part)
        for part in (
            "curl", "-s", "-X", "POST",
            f"{stream_url}/channels/messaging/{channel}/message?api_key={api_key}",
            "-H", "Stream-Auth-Type: jwt", "-H", "Content-Type: application/json",
            "-d", '{"message":{"text":"Rex is limping again"}}',
        )
    )  # fmt: skip
    lines = [
        "# The message -> webhook -> push path: Sam writes in the appointment chat through",
        "# Stream (the built-in emulator), Stream's signed webhook reaches this service, and",
        "# Dr. Ana's devices get a push (PUSH_PROVIDER=log: a 'push notification' log line",
        "# with recipient=vet-ana appears below).",
        _curl(base_url, owner_token, "POST", "/api/chat/channels", '{"appointmentId":"apt-now"}'),
        f"STREAM_TOKEN=$({token_call} | {_PRINT_JSON_FIELD})",
        send + ' -H "Authorization: $STREAM_TOKEN"',
        "",
    ]
    return "\n".join(lines)
