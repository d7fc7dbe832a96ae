"""DATABASE_URL through the composition root with a host's adapters: PostgreSQL's member reads
serve its own directory only; a host's directory is read through that directory and written
by the host alone, unless the host brings its own writer and member reads."""

from __future__ import annotations

from tests.support.postgres import session_database
from yc_chat.adapters.memory import InMemoryDirectory
from yc_chat.adapters.postgres import PostgresMemberReads
from yc_chat.domain.usecases.org_checks import ReadsThroughDirectory
from yc_chat.entrypoints import bootstrap
from yc_chat.entrypoints.settings import Settings

SECRET = "bootstrap-postgres-secret-" + "p" * 32


async def _settings() -> Settings:
    return Settings.from_env({"JWT_SECRET": SECRET, "DATABASE_URL": await session_database()})


async def test_postgres_reads_members_of_its_own_directory() -> None:
    async with bootstrap.open_runtime(await _settings()) as runtime:
        ports = runtime.ports
        assert isinstance(ports.member_reads, PostgresMemberReads)
        assert ports.directory_writer is ports.directory


async def test_a_hosts_directory_goes_without_postgres_member_reads_and_writer() -> None:
    host = InMemoryDirectory()
    async with bootstrap.open_runtime(await _settings(), directory=host) as runtime:
        ports = runtime.ports
        assert ports.directory is host
        assert (ports.directory_writer, ports.member_reads) == (None, None)
        assert type(ports.inbox).__module__.startswith("yc_chat.adapters.postgres")
    reads, writer = ReadsThroughDirectory(host), InMemoryDirectory()
    async with bootstrap.open_runtime(
        await _settings(), directory=host, directory_writer=writer, member_reads=reads
    ) as runtime:
        assert runtime.ports.directory_writer is writer
        assert runtime.ports.member_reads is reads
