"""A host's adapters replace the built-in ones by `Ports` name (`in_memory(directory=...)`):
every port a host may bring is overridable, the rest are kept, and a host's directory
comes without the built-in writer and member reads unless the host brings those too."""

from __future__ import annotations

import attrs

from yc_chat.adapters.clock import SystemClock
from yc_chat.adapters.memory import InMemoryDirectory
from yc_chat.domain.service import PortOverrides, Ports
from yc_chat.domain.usecases.org_checks import ReadsThroughDirectory
from yc_chat.entrypoints.bootstrap import in_memory

# What the service itself decides: the webhook reader and the metrics exporter.
NOT_A_HOSTS = {"webhooks", "metrics"}


def test_every_port_but_the_services_own_is_overridable() -> None:
    assert set(PortOverrides.__annotations__) == {f.name for f in attrs.fields(Ports)} - NOT_A_HOSTS


def test_an_override_replaces_its_port_and_keeps_the_built_ones() -> None:
    clock = SystemClock()
    ports = in_memory(clock=clock, issued_tokens=None).ports

    assert ports.clock is clock
    assert ports.issued_tokens is None
    # No host directory: the built-in one is written and read as before.
    assert isinstance(ports.directory, InMemoryDirectory)
    assert ports.directory_writer is ports.directory
    assert ports.member_reads is None


def test_a_hosts_directory_is_the_hosts_to_change_unless_it_brings_a_writer() -> None:
    host = InMemoryDirectory()
    alone = in_memory(directory=host).ports
    writer = InMemoryDirectory()
    reads = ReadsThroughDirectory(host)
    with_both = in_memory(directory=host, directory_writer=writer, member_reads=reads).ports

    assert alone.directory is host
    assert (alone.directory_writer, alone.member_reads) == (None, None)
    assert with_both.directory is host
    assert with_both.directory_writer is writer
    assert with_both.member_reads is reads
