"""The app's event hooks on the emulator (UpdateApp's `event_hooks`, Stream's EventHook):
listed by GetApp, replaced as a whole, and webhook hooks delivered to for their event
types beside `webhook_url`; SQS and SNS hooks are refused as not supported."""

from __future__ import annotations

import json
from typing import Any

import pytest
from stream_chat import StreamChat
from stream_chat.base.exceptions import StreamAPIException

from stream_emulator import RunningEmulator
from stream_emulator.webhooks import sign
from tests.support.emulator import API_SECRET, WebhookReceiver, as_user
from tests.support.emulator import stream_emulator as stream_emulator  # the fixture


def types_of(receiver: WebhookReceiver) -> list[str]:
    return [json.loads(hook.body)["type"] for hook in receiver.received]


def test_hooks_are_listed_and_replaced_as_a_whole(server: StreamChat) -> None:
    server.update_app_settings(
        event_hooks=[
            {"hook_type": "webhook", "webhook_url": "https://example.com/a", "event_types": []},
            {
                "hook_type": "pending_message",
                "webhook_url": "http://example.com/p",
                "timeout_ms": 500,
                "callback": {"mode": "CALLBACK_MODE_REST"},
            },
        ]
    )
    hooks = server.get_app_settings()["app"]["event_hooks"]
    assert [(h["hook_type"], h["webhook_url"]) for h in hooks] == [
        ("webhook", "https://example.com/a"),
        ("pending_message", "http://example.com/p"),
    ]
    assert hooks[0]["id"] and hooks[0]["enabled"] is True
    assert hooks[1]["callback"] == {"mode": "CALLBACK_MODE_REST"}
    # Changing the webhook URL alone keeps the hooks; an empty list removes them.
    server.update_app_settings(webhook_url="https://example.com/main")
    assert len(server.get_app_settings()["app"]["event_hooks"]) == 2
    server.update_app_settings(event_hooks=[])
    app = server.get_app_settings()["app"]
    assert app["event_hooks"] == [] and app["webhook_url"] == "https://example.com/main"


def test_webhook_hooks_get_their_event_types_signed_like_the_webhook(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    with WebhookReceiver() as every, WebhookReceiver() as messages, WebhookReceiver() as off:
        server.update_app_settings(
            event_hooks=[
                # First: one delivery task sends in order, so a delivery to it would come
                # before the others'.
                {"webhook_url": off.url, "enabled": False},
                {"webhook_url": every.url},
                {"webhook_url": messages.url, "event_types": ["message.new"]},
            ]
        )
        server.upsert_user({"id": "ana", "name": "Ana B"})
        server.channel("messaging", "visit").send_message({"text": "hi"}, "ana")
        every.wait_for(2)
        messages.wait_for(1)
    assert types_of(every) == ["user.updated", "message.new"]
    assert types_of(messages) == ["message.new"]
    assert off.received == []
    hook = messages.received[0]
    assert hook.headers["x-signature"] == sign(hook.body, API_SECRET)


@pytest.mark.parametrize(
    "hooks",
    [
        [{"hook_type": "sqs", "sqs_queue_url": "https://sqs.example/q"}],
        [{"hook_type": "sns", "sns_topic_arn": "arn:aws:sns:x"}],
    ],
)
def test_push_provider_hooks_are_refused_as_not_supported(
    server: StreamChat, hooks: list[dict[str, Any]]
) -> None:
    with pytest.raises(StreamAPIException) as caught:
        server.update_app_settings(event_hooks=hooks)
    assert (caught.value.status_code, caught.value.error_code) == (400, 4)
    assert "not supported by the emulator" in caught.value.error_message


@pytest.mark.parametrize(
    "hooks",
    [
        "https://example.com",
        [{"webhook_url": "ftp://example.com"}],
        [{"hook_type": "carrier-pigeon", "webhook_url": "https://example.com"}],
        [{"webhook_url": "https://example.com", "event_types": "message.new"}],
        [{"webhook_url": "https://example.com", "enabled": "yes"}],
        [{"webhook_url": "https://example.com", "timeout_ms": 0}],
        [{"webhook_url": "https://example.com", "callback": {"mode": "SHOUT"}}],
        [{"webhook_url": "https://example.com", "colour": "red"}],
    ],
)
def test_bad_hooks_change_nothing(server: StreamChat, hooks: object) -> None:
    server.update_app_settings(event_hooks=[{"webhook_url": "https://example.com/kept"}])
    with pytest.raises(StreamAPIException) as caught:
        server.update_app_settings(event_hooks=hooks)
    assert (caught.value.status_code, caught.value.error_code) == (400, 4)
    kept = server.get_app_settings()["app"]["event_hooks"]
    assert [h["webhook_url"] for h in kept] == ["https://example.com/kept"]


def test_hooks_are_server_side(emulator: RunningEmulator, server: StreamChat) -> None:
    server.update_app_settings(event_hooks=[{"webhook_url": "https://example.com/secret"}])
    with pytest.raises(StreamAPIException) as caught:
        as_user(emulator, "ana").update_app_settings(event_hooks=[])
    assert caught.value.status_code == 403
    assert "event_hooks" not in as_user(emulator, "ana").get_app_settings()["app"]
