"""Stream is a second door, tried as an attacker would: a real `yc-chat serve`, the people's
own Stream tokens, and the official Python SDK used as a client (a user token, no secret).

Issue 19's findings 1 and 3: a person forges an org group directly on Stream; a group's
creator or an appointment's vet keeps owner rights on Stream after being removed. With the
system user creating every channel and `yc-chat stream setup` applied, neither works, and
a forged channel from before the setup is never listed nor pushed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from stream_chat import StreamChat
from stream_chat.base.exceptions import StreamAPIException

from tests.support import servers
from tests.support.processes import (
    JWT_SECRET,
    STREAM_KEY,
    STREAM_SECRET,
    Process,
    base_env,
    bearer,
    request,
)

HAPPY_PAWS, RIVERSIDE = "org-happypaws", "org-riverside"
# Finding 1: a pet owner with no org dresses a channel up as a Riverside staff group.
FORGED = {
    "members": ["owner-sam", "vet-kenji", "owner-sofia"],
    "chatCategory": "group",
    "orgId": RIVERSIDE,
    "isGroup": True,
    "status": "active",
    "name": "Riverside: all staff (official)",
}
PHISH = "Please re-enter your password at http://phish.example"


class Service:
    """A running `serve --demo` and the calls people make to it."""

    def __init__(self, url: str, process: Process) -> None:
        self.url = url
        self.process = process

    def call(self, method: str, path: str, user: str, body: Any = None) -> tuple[int, Any]:
        return request(method, self.url + path, body=body, headers=bearer(user))

    def ok(self, method: str, path: str, user: str, body: Any = None) -> Any:
        status, answer = self.call(method, path, user, body)
        assert status == 200, (method, path, status, answer)
        return answer

    def client(self, user: str) -> StreamChat:
        """The official SDK as `user`'s client: their Stream token and nothing else."""
        access = self.ok("POST", "/api/chat/token", user, {"userId": user})
        # The SDK wants a secret to build; the token replaces what it would sign with it.
        sdk = StreamChat(
            access["apiKey"],
            "a client holds no secret: this only feeds the SDK",
            base_url=access["baseUrl"],
        )
        sdk.auth_token = access["token"]
        return sdk

    def channel_ids(self, user: str, query: str = "") -> list[str]:
        return [c["id"] for c in self.ok("GET", "/api/chat/channels" + query, user)["channels"]]

    def group_ids(self, user: str, org: str) -> list[str]:
        answer = self.ok("GET", f"/api/chat/channels/groups?orgId={org}", user)
        return [c["id"] for c in answer["channels"]]

    def pushes(self) -> list[dict[str, Any]]:
        records = [json.loads(line) for line in self.process.log().splitlines() if line[:1] == "{"]
        return [r for r in records if r.get("message") == "push notification"]


def refused(call: Callable[[], Any], action: str) -> None:
    """Stream's refusal of a permission: 403, code 17, naming the action."""
    with pytest.raises(StreamAPIException) as caught:
        call()
    assert caught.value.status_code == 403, caught.value
    assert caught.value.error_code == 17, caught.value
    assert f"perform action {action}" in caught.value.error_message, caught.value


def eventually(check: Callable[[], bool], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def start_serve(tmp_path: Path, port: int, **env: str) -> Service:
    settings = base_env(JWT_SECRET=JWT_SECRET, LOG_LEVEL="INFO", **env)
    args = ["serve", "--demo", "--host", "127.0.0.1", "--port", str(port)]
    process = Process(f"serve-{port}", args, settings, tmp_path)
    url = f"http://127.0.0.1:{port}"
    process.wait_answering(url + "/healthz")
    return Service(url, process)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Service]:
    """`serve --demo`: the built-in emulator, set up at start."""
    service = start_serve(tmp_path, servers.free_port())
    try:
        yield service
    finally:
        service.process.stop()


def test_people_cannot_create_channels_or_take_over_the_services(demo: Service) -> None:
    status, ready = request("GET", demo.url + "/readyz")
    assert (status, ready["checks"]["setup"]) == (200, "ok")
    sam = demo.client("owner-sam")
    for user in ("vet-kenji", "owner-sofia"):
        demo.client(user)  # they exist on Stream, as anyone who ever opened the app

    refused(
        lambda: sam.channel("messaging", "forged", dict(FORGED)).create("owner-sam"),
        "CreateChannel",
    )
    refused(
        lambda: sam.channel("messaging", None, dict(FORGED)).create("owner-sam"), "CreateChannel"
    )

    # The appointment's vet and a group's creator hold no owner rights on Stream.
    apt = demo.ok("POST", "/api/chat/channels", "vet-ana", {"appointmentId": "apt-now"})
    group = demo.ok(
        "POST",
        "/api/chat/channels/group",
        "vet-tom",
        {
            "orgId": HAPPY_PAWS,
            "name": "Surgery",
            "memberIds": ["nurse-priya"],
            "createdBy": "vet-tom",
        },
    )
    closed = demo.ok(
        "POST",
        "/api/chat/channels/group",
        "vet-tom",
        {"orgId": HAPPY_PAWS, "name": "Old", "memberIds": ["nurse-priya"], "createdBy": "vet-tom"},
    )
    demo.ok("POST", f"/api/chat/channels/{closed['channelId']}/end", "vet-tom")
    ana, tom = demo.client("vet-ana"), demo.client("vet-tom")
    mine = tom.channel("messaging", group["channelId"])
    refused(lambda: mine.add_members(["owner-sam"]), "UpdateChannelMembers")
    refused(lambda: mine.update_partial({"orgId": RIVERSIDE}), "UpdateChannel")
    refused(lambda: mine.update({"name": "Mine now"}), "UpdateChannel")
    refused(lambda: mine.delete(), "DeleteChannel")
    old = tom.channel("messaging", closed["channelId"])
    refused(lambda: old.update_partial({"frozen": False}), "UpdateChannel")
    chat = ana.channel("messaging", apt["channelId"])
    refused(lambda: chat.add_members(["owner-jordan"]), "UpdateChannelMembers")
    refused(lambda: chat.remove_members(["owner-sam"]), "UpdateChannelMembers")
    # Members still talk.
    chat.send_message({"text": "See you at 3"}, "vet-ana")
    mine.send_message({"text": "Scrubbing in"}, "vet-tom")

    # Removed from the org, the group's creator and the appointment's vet are out for good.
    for person in ("vet-tom", "vet-ana"):
        demo.ok("DELETE", f"/api/orgs/{HAPPY_PAWS}/members/{person}", "admin-maya")

    def cut_off(channel: Any, user: str) -> bool:
        try:
            channel.send_message({"text": "still in?"}, user)
        except StreamAPIException as error:
            return error.error_code == 40  # the token issued before the removal is revoked
        return False

    eventually(lambda: cut_off(mine, "vet-tom"), "the group creator's old token still posts")
    eventually(lambda: cut_off(chat, "vet-ana"), "the ex-vet's old token still posts")

    # A fresh token (they are still users) gets them nowhere: no membership, no owner rights.
    # Revocation covers the whole second of the removal, so a token from then is refused too.
    def fresh(user: str) -> StreamChat:
        found: list[StreamChat] = []

        def valid() -> bool:
            client = demo.client(user)
            try:
                client.get_app_settings()
            except StreamAPIException as error:
                if error.error_code == 40:
                    return False
            found.append(client)
            return True

        eventually(valid, f"no token for {user} outlives the revocation")
        return found[0]

    tom, ana = fresh("vet-tom"), fresh("vet-ana")
    mine = tom.channel("messaging", group["channelId"])
    chat = ana.channel("messaging", apt["channelId"])
    refused(lambda: mine.send_message({"text": "back door"}, "vet-tom"), "CreateMessage")
    refused(lambda: chat.send_message({"text": "back door"}, "vet-ana"), "CreateMessage")
    refused(lambda: chat.query(), "ReadChannel")
    refused(lambda: mine.add_members(["vet-tom"]), "UpdateChannelMembers")
    refused(lambda: mine.update_partial({"frozen": False}), "UpdateChannel")
    assert group["channelId"] in demo.channel_ids("nurse-priya")
    assert all(c not in demo.channel_ids("owner-sofia") for c in ("forged",))


@pytest.fixture
def before_setup(tmp_path: Path) -> Iterator[tuple[Service, Process]]:
    """`serve --demo` on a separate emulator whose setup has not been applied yet."""
    emulator_port, serve_port = servers.free_port(), servers.free_port()
    stream = {
        "STREAM_API_KEY": STREAM_KEY,
        "STREAM_API_SECRET": STREAM_SECRET,
    }
    emulator = Process(
        "emulator",
        [
            "emulator",
            "--host",
            "127.0.0.1",
            "--port",
            str(emulator_port),
            "--webhook-url",
            f"http://127.0.0.1:{serve_port}/api/webhooks/stream",
        ],
        base_env(**stream),
        tmp_path,
    )
    emulator_url = f"http://127.0.0.1:{emulator_port}"
    try:
        emulator.wait_answering(emulator_url + "/")
        service = start_serve(tmp_path, serve_port, STREAM_BASE_URL=emulator_url, **stream)
        try:
            yield service, emulator
        finally:
            service.process.stop()
    finally:
        emulator.stop()


def test_a_channel_forged_before_the_setup_is_never_listed_nor_pushed(
    before_setup: tuple[Service, Process], tmp_path: Path
) -> None:
    service, _ = before_setup
    status, ready = request("GET", service.url + "/readyz")
    assert (status, ready["details"]) == (503, ["setup"])
    sam = service.client("owner-sam")
    kenji, sofia = service.client("vet-kenji"), service.client("owner-sofia")
    # Stream's default grants let anyone create channels: the forgery of finding 1.
    sam.channel("messaging", "forged", dict(FORGED)).create("owner-sam")

    setup = subprocess.run(
        [sys.executable, "-m", "yc_chat", "stream", "setup"],
        env=base_env(
            STREAM_API_KEY=STREAM_KEY,
            STREAM_API_SECRET=STREAM_SECRET,
            STREAM_BASE_URL=service.client("owner-sam").base_url,
        ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert request("GET", service.url + "/readyz")[0] == 200
    refused(
        lambda: sam.channel("messaging", "forged-2", dict(FORGED)).create("owner-sam"),
        "CreateChannel",
    )
    # The forger is a member of his channel: he may post there, and does.
    sam.channel("messaging", "forged").send_message({"text": PHISH}, "owner-sam")
    real = service.ok(
        "POST",
        "/api/chat/channels/group",
        "vet-kenji",
        {
            "orgId": RIVERSIDE,
            "name": "Night shift",
            "memberIds": ["owner-sofia"],
            "createdBy": "vet-kenji",
        },
    )
    kenji.channel("messaging", real["channelId"]).send_message({"text": "Shift swap?"}, "vet-kenji")
    eventually(
        lambda: any(p.get("channel") == real["channelId"] for p in service.pushes()),
        "the real group's message was not pushed",
    )
    # Events are handled in arrival order: the forged one came first.
    assert all(p.get("channel") != "forged" for p in service.pushes())
    assert [p["recipient"] for p in service.pushes()] == ["owner-sofia"]
    for user in ("vet-kenji", "owner-sofia"):
        assert service.channel_ids(user) == [real["channelId"]]
        assert service.channel_ids(user, f"?orgId={RIVERSIDE}") == [real["channelId"]]
        assert service.group_ids(user, RIVERSIDE) == [real["channelId"]]
    assert "forged" not in service.channel_ids("owner-sam")
    assert sofia.channel("messaging", "forged").query()["channel"]["orgId"] == RIVERSIDE
    assert PHISH not in service.process.log()
