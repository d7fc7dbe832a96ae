"""MONGODB_URI through the composition root: `yc-chat seed` writes, `serve` reads it back.

The URI is routed to one in-process double (no MongoDB server can run here), shared by
the "seed process" and the "serve process" as one server would be.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import cast

import pytest

from tests.support.demo import FIXTURE
from tests.support.mongo_double import DoubleClient
from yc_chat.adapters.beanie import MongoClient, MongoStores, open_mongo_stores
from yc_chat.domain.model import AppointmentId, ChatStatus, UserId
from yc_chat.entrypoints import bootstrap, cli
from yc_chat.entrypoints.settings import Settings

SECRET = "bootstrap-mongo-secret-" + "m" * 32
URI = "mongodb://db.example:27017"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> DoubleClient:
    double = DoubleClient()
    seen: list[tuple[str, str]] = []

    async def open_on_double(uri: str, database: str) -> MongoStores:
        seen.append((uri, database))
        return await open_mongo_stores(cast(MongoClient, double), database)

    monkeypatch.setattr(bootstrap, "open_mongo_stores", open_on_double)
    double.seen = seen  # type: ignore[attr-defined]
    return double


def test_seed_writes_into_mongodb_and_serve_reads_it(
    server: DoubleClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "clinic.json"
    path.write_text(json.dumps(FIXTURE), encoding="utf-8")
    env = {"JWT_SECRET": SECRET, "MONGODB_URI": URI, "DATABASE_NAME": "clinic"}
    assert cli.main(["seed", str(path)], env=env) == 0
    assert cli.main(["seed", str(path)], env=env) == 0  # upserts: a second load is harmless
    assert "Loaded into MongoDB" in capsys.readouterr().out
    assert server.seen == [(URI, "clinic"), (URI, "clinic")]  # type: ignore[attr-defined]

    async def serve_side() -> None:
        async with bootstrap.open_runtime(Settings.from_env(env)) as runtime:
            assert runtime.persistent
            for probe in runtime.probes.values():
                await probe()
            token = await runtime.service.connect_user(
                caller=UserId("owner-1"), user_id=UserId("owner-1")
            )
            assert token.token
            ref = await runtime.service.open_appointment_chat(
                caller=UserId("owner-1"), appointment_id=AppointmentId("apt-1")
            )
            record = await runtime.ports.appointments.get(AppointmentId("apt-1"))
            assert record is not None
            assert record.chat_channel_id == ref.channel_id
            assert record.chat_status is ChatStatus.ACTIVE  # the appointment is in the past

    asyncio.run(serve_side())


def test_mongodb_outage_makes_readiness_fail(server: DoubleClient) -> None:
    env = {"JWT_SECRET": SECRET, "MONGODB_URI": URI}

    async def check() -> None:
        async with bootstrap.open_runtime(Settings.from_env(env)) as runtime:
            with server.outage(), pytest.raises(Exception, match=r"MongoDB|unavailable|reach"):
                await runtime.probes["stores"]()

    asyncio.run(check())


def test_the_production_builder_takes_a_hosts_directory_and_notifier(server: DoubleClient) -> None:
    from tests.support.notifier import RecordingNotifier
    from yc_chat.adapters.memory import InMemoryDirectory
    from yc_chat.domain.model import Membership, Org, OrgId, User

    env = {"JWT_SECRET": SECRET, "MONGODB_URI": URI}
    directory, notifier = InMemoryDirectory(), RecordingNotifier()

    async def check() -> None:
        await directory.put_org(Org(id=OrgId("org-1"), name="Happy Paws"))
        for uid in ("vet-1", "nurse-1"):
            await directory.put_user(User(id=UserId(uid), name=uid))
            await directory.put_membership(
                Membership(org_id=OrgId("org-1"), user_id=UserId(uid), role="vet")
            )
        settings = Settings.from_env(env)
        async with bootstrap.open_runtime(settings, directory=directory, notifier=notifier) as rt:
            assert rt.ports.directory is directory and rt.ports.notifier is notifier
            # The host owns its people: nothing writes them but the host.
            assert rt.ports.directory_writer is None
            assert type(rt.ports.inbox).__module__.startswith("yc_chat.adapters.beanie")
            assert "directory" in rt.probes
            dm = await rt.service.start_colleague_dm(
                caller=UserId("vet-1"), org_id=OrgId("org-1"),
                member_ids=[UserId("vet-1"), UserId("nurse-1")], created_by=UserId("vet-1"),
            )  # fmt: skip
            assert set(dm.members) == {"vet-1", "nurse-1"}

    asyncio.run(check())
