"""Settings from the environment, the composition root, the CLI, the lifecycle task."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt
import pytest

from tests.http.conftest import WorldFactory
from tests.support.demo import FIXTURE
from tests.support.world import World, default_settings
from yc_chat.adapters.push import LogNotifier
from yc_chat.adapters.stream.events import StreamEventError, parse_stream_event
from yc_chat.domain.channel_ids import appointment_channel_id
from yc_chat.domain.events import ChannelDeleted, MessagePosted, OtherEvent, UserUpdated
from yc_chat.domain.model import AppointmentId, ChannelId, ChatStatus, Notification, UserId
from yc_chat.entrypoints import bootstrap, cli, cli_serve, demo
from yc_chat.entrypoints.runtime import Runtime
from yc_chat.entrypoints.settings import RateLimit, Settings, SettingsError, with_jwt_secret

SECRET = "s" * 40


# -- settings ------------------------------------------------------------------------------


def test_no_environment_gives_the_documented_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.http.token_rate_limit == RateLimit(limit=30, window_seconds=60)
    assert settings.http.address_limit_factor == 4
    assert settings.chat_token_ttl == timedelta(hours=24)
    assert settings.http.max_body_bytes == 256 * 1024
    assert settings.http.webhook_max_body_bytes == 1024 * 1024
    assert settings.http.cors_origins == ()
    assert settings.http.trusted_proxies == ()
    assert not settings.http.auth.configured


def test_environment_is_parsed() -> None:
    settings = Settings.from_env(
        {
            "JWT_SECRET": SECRET,
            "JWT_AUDIENCE": "yc",
            "JWT_ISSUER": "https://id.example",
            "JWT_USER_ID_CLAIM": "uid",
            "TOKEN_RATE_LIMIT": "10/second",
            "CHAT_TOKEN_TTL": "2h",
            "CORS_ORIGINS": "https://pms.example, https://admin.example/",
            "TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.1",
            "REDIS_URL": "redis://:pw@cache:6379/0",
            "STREAM_API_KEY": "stream-key",
            "STREAM_API_SECRET": "stream-secret-" + "q" * 32,
        }
    )
    assert settings.http.auth.audience == "yc"
    assert settings.http.auth.user_id_claim == "uid"
    assert settings.http.token_rate_limit == RateLimit(limit=10, window_seconds=1)
    assert settings.chat_token_ttl == timedelta(hours=2)
    assert settings.http.cors_origins == ("https://pms.example", "https://admin.example")
    assert len(settings.http.trusted_proxies) == 2
    assert settings.http.webhook_secret == "stream-secret-" + "q" * 32


def test_secrets_never_appear_in_repr() -> None:
    settings = Settings.from_env(
        {
            "JWT_SECRET": SECRET,
            "REDIS_URL": "redis://:hunter2@cache",
            "STREAM_API_KEY": "k",
            "STREAM_API_SECRET": "zz9" * 12,
        }
    )
    text = repr(settings)
    for secret in (SECRET, "hunter2", "zz9"):
        assert secret not in text


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"TOKEN_RATE_LIMIT": "lots"}, "TOKEN_RATE_LIMIT"),
        ({"JWT_SECRET": "short"}, "at least 32 bytes"),
        ({"JWT_SECRET": SECRET, "JWT_JWKS_URL": "https://id.example/jwks"}, "only one of"),
        ({"JWT_JWKS_URL": "http://id.example/jwks"}, "https"),
        ({"CHAT_TOKEN_TTL": "forever"}, "CHAT_TOKEN_TTL"),
        ({"TRUSTED_PROXIES": "not-an-ip"}, "TRUSTED_PROXIES"),
        ({"CORS_ORIGINS": "pms.example"}, "CORS_ORIGINS"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
    ],
)
def test_bad_environment_is_a_clear_error(env: dict[str, str], fragment: str) -> None:
    with pytest.raises(SettingsError, match=fragment):
        Settings.from_env(env)


def test_rate_limit_off() -> None:
    assert Settings.from_env({"TOKEN_RATE_LIMIT": "off"}).http.token_rate_limit is None
    assert RateLimit.parse("100 / 5m") == RateLimit(limit=100, window_seconds=300)


def test_unreachable_mongodb_stops_the_start_without_leaking_credentials(
    capsys: pytest.CaptureFixture[str],
) -> None:
    uri = "mongodb://app:hunter2-secret@127.0.0.1:1/?serverSelectionTimeoutMS=300"
    assert cli.main(["serve"], env={"JWT_SECRET": SECRET, "MONGODB_URI": uri}) == 1
    err = capsys.readouterr().err
    assert "MongoDB" in err
    assert "hunter2" not in err


def test_stream_key_without_secret_refuses_to_start(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["serve"], env={"JWT_SECRET": SECRET, "STREAM_API_KEY": "key"}) == 2
    assert "STREAM_API_SECRET" in capsys.readouterr().err


def test_serve_without_auth_refuses_to_start(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["serve"], env={}) == 2
    assert "JWT_SECRET" in capsys.readouterr().err


async def test_default_runtime_is_memory_plus_the_emulator_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    async with bootstrap.open_runtime(Settings.from_env({"JWT_SECRET": SECRET})) as runtime:
        assert runtime.settings.http.webhook_secret  # the emulator's generated secret
        assert runtime.emulator is not None and runtime.emulator.running
        assert not runtime.persistent
        # The built-in emulator is set up at start: the setup probe passes too.
        assert set(runtime.probes) == {"stores", "chat", "setup"}
        for probe in runtime.probes.values():
            await probe()
        runtime.deliver_webhooks_to("http://127.0.0.1:3000/")
        assert runtime.emulator.control.webhook_url == "http://127.0.0.1:3000/api/webhooks/stream"
        emulator = runtime.emulator
    assert not emulator.running  # stopped with the runtime
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("NOT persisted" in r.getMessage() for r in warnings)


# -- CLI -----------------------------------------------------------------------------------


def test_dev_token_is_a_valid_bearer_token(capsys: pytest.CaptureFixture[str]) -> None:
    env = {"JWT_SECRET": SECRET, "JWT_AUDIENCE": "yc"}
    assert cli.main(["dev-token", "vet-1", "--ttl", "120"], env=env) == 0
    token = capsys.readouterr().out.strip()
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience="yc")
    assert claims["sub"] == "vet-1"
    assert claims["exp"] - claims["iat"] == 120


def test_dev_token_needs_a_secret(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["dev-token", "vet-1"], env={}) == 2
    assert "JWT_SECRET" in capsys.readouterr().err


def test_seed_validates_and_says_nothing_was_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(FIXTURE), encoding="utf-8")
    assert cli.main(["seed", str(good)], env={}) == 0
    out = capsys.readouterr().out
    assert "2 orgs" in out and "in memory" in out
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"users": [{"id": 5}]}), encoding="utf-8")
    assert cli.main(["seed", str(bad)], env={}) == 2
    assert "invalid fixture" in capsys.readouterr().err


def test_demo_fixture_is_valid_and_around_now() -> None:
    now = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    fixture = demo.demo_fixture(now)
    assert len(fixture.orgs) == 2
    roles = {m.role for m in fixture.memberships}
    assert {"owner", "admin", "vet", "nurse"} <= roles
    starts = sorted(a.starts_at - now for a in fixture.appointments)
    assert starts[0] == timedelta(minutes=5)  # opens right now
    assert timedelta(hours=1) <= starts[1] < timedelta(hours=12)
    assert starts[2] == timedelta(days=1)
    text = demo.demo_instructions("http://127.0.0.1:3000", lambda uid: f"tok-{uid}")
    for persona in demo.PERSONAS:
        assert f"Bearer tok-{persona.user_id}" in text


# -- lifecycle -----------------------------------------------------------------------------


async def test_lifespan_task_activates_due_chats(make_world: WorldFactory) -> None:
    world: World = await make_world(default_settings(activation_interval_seconds=0.02))
    await world.post("/api/chat/channels", "vet-1", {"appointmentId": "apt-1"})
    channel_id = appointment_channel_id(AppointmentId("apt-1"))
    world.clock.advance(timedelta(hours=2))
    for _ in range(100):
        record = await world.appointments.get(AppointmentId("apt-1"))
        if record is not None and record.chat_status is ChatStatus.ACTIVE:
            break
        await asyncio.sleep(0.02)
    channel = await world.chat.get_channel(channel_id)
    assert channel is not None and channel.status is ChatStatus.ACTIVE and not channel.frozen


# -- stream events and the log notifier ----------------------------------------------------


def test_stream_events_parse_to_domain_events() -> None:
    message = parse_stream_event(
        {
            "type": "message.new",
            "cid": "messaging:abc",
            "message": {"text": "hi", "user": {"id": "u1", "name": "U"}, "attachments": [{}]},
        }
    )
    assert message == MessagePosted(
        channel_id="abc",  # type: ignore[arg-type]
        sender_id=UserId("u1"),
        sender_name="U",
        text="hi",
        has_attachments=True,
        is_system=False,
    )
    deleted = parse_stream_event({"type": "channel.deleted", "channel": {"id": "abc"}})
    assert deleted == ChannelDeleted(channel_id="abc")  # type: ignore[arg-type]
    updated = parse_stream_event({"type": "user.updated", "user": {"id": "u1"}})
    assert updated == UserUpdated(user_id=UserId("u1"))
    profile = {"id": "u1", "name": "Uma", "image": "https://cdn.example/u.png"}
    renamed = parse_stream_event({"type": "user.updated", "user": profile})
    assert renamed == UserUpdated(
        user_id=UserId("u1"), name="Uma", image="https://cdn.example/u.png"
    )
    assert parse_stream_event({"type": "typing.start"}) == OtherEvent(type="typing.start")
    # A type we act on without what acting needs: malformed, reported by the worker.
    assert parse_stream_event({"type": "user.updated"}) == OtherEvent(
        type="user.updated", malformed=True
    )
    for bad in ([], "x", {}, {"type": 5}, {"type": ""}):
        with pytest.raises(StreamEventError):
            parse_stream_event(bad)


async def test_log_notifier_logs_recipient_channel_and_length_never_the_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Issue 13: the default push provider wrote medical message text into the log."""
    caplog.set_level(logging.INFO, logger="yc_chat.push")
    secret_text = "CONFIDENTIAL diagnosis: " + "b" * 500
    await LogNotifier().notify(
        [
            Notification(
                recipient_id=UserId(uid), title="Sam", body=secret_text, channel_id=ChannelId("c1")
            )
            for uid in ("a", "b")
        ]
    )
    records = [r for r in caplog.records if r.name == "yc_chat.push"]
    assert [r.__dict__["recipient"] for r in records] == ["a", "b"]
    assert all(r.__dict__["channel"] == "c1" for r in records)
    assert all(r.__dict__["text_length"] == len(secret_text) for r in records)
    for record in records:
        rendered = logging.Formatter().format(record) + repr(record.__dict__)
        assert "CONFIDENTIAL" not in rendered and "bbbb" not in rendered


async def test_demo_instructions_work_against_the_demo_app() -> None:
    """What `make serve` prints: paste the vet's token call and it succeeds."""
    settings = with_jwt_secret(Settings.from_env({}), "d" * 48)
    async with bootstrap.open_runtime(settings) as runtime:
        await _walk_demo(runtime)


async def _walk_demo(runtime: Runtime) -> None:
    await runtime.load(demo.demo_fixture(datetime.now(UTC)))
    text = cli_serve.demo_text(
        runtime.settings,
        "0.0.0.0",  # noqa: S104
        3000,
        emulator=runtime.emulator,
    )
    assert "http://127.0.0.1:3000/api/chat/token" in text
    # Where a frontend finds the built-in Stream: its address and (public) key.
    assert runtime.emulator is not None
    assert (
        f"Stream emulator: {runtime.emulator.base_url}  api key: {runtime.emulator.api_key}" in text
    )
    assert "Clinic console (vet and pet owner side by side): http://127.0.0.1:3000/demo/" in text
    tokens = re.findall(r"Bearer ([\w.-]+)", text)
    assert len(set(tokens)) == 3
    # In this loop (not a test portal's thread): the Stream SDK client is bound to it.
    transport = httpx.ASGITransport(app=bootstrap.build_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        vet = await client.post(
            "/api/chat/token",
            json={"userId": "vet-ana"},
            headers={"Authorization": f"Bearer {tokens[0]}"},
        )
        assert vet.status_code == 200
        chat = await client.post(
            "/api/chat/channels",
            json={"appointmentId": "apt-now"},
            headers={"Authorization": f"Bearer {tokens[0]}"},
        )
        assert chat.status_code == 200
        listed = await client.get(
            "/api/chat/channels", headers={"Authorization": f"Bearer {tokens[0]}"}
        )
        assert listed.json()["channels"][0]["status"] == "active"  # opening now
