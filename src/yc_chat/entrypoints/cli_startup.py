"""What `serve` does before it serves: ask Stream, and share metrics between workers."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator

import attrs

from yc_chat.entrypoints.cli_common import CommandError
from yc_chat.entrypoints.settings import Settings, SettingsError


def check_stream(settings: Settings, *, wait_seconds: float) -> None:
    """Stop with one line unless the configured Stream app answers and takes its credentials.

    Runs before logging is set up and before anything listens, in a loop of its own.
    """
    from yc_chat.entrypoints import bootstrap

    if not 0 <= wait_seconds <= 600:
        raise SettingsError("--check-timeout must be between 0 and 600 seconds")
    problem = asyncio.run(bootstrap.check_chat_provider(settings, wait_seconds=wait_seconds))
    if problem is not None:
        raise CommandError(f"{problem}; or start with --no-check", status=1)


@contextlib.contextmanager
def shared_metrics(settings: Settings) -> Iterator[Settings]:
    """Settings whose metrics live in files every worker adds to, so any scrape sums them.

    Without PROMETHEUS_MULTIPROC_DIR a fresh directory is made for this run and removed
    after it; prometheus-client reads the variable when a worker first imports it.
    """
    if settings.metrics_multiprocess_dir is not None:
        yield settings
        return
    directory = tempfile.mkdtemp(prefix="yc-chat-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory  # inherited by the spawned workers
    try:
        yield attrs.evolve(settings, metrics_multiprocess_dir=directory)
    finally:
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        shutil.rmtree(directory, ignore_errors=True)
