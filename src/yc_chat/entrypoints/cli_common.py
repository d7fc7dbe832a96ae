"""What every `yc-chat` command shares: its error type, exit codes and log setup."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Mapping

from yc_chat.entrypoints.logs import configure_logging
from yc_chat.entrypoints.settings import LogFormat, Settings

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class CommandError(Exception):
    """A mistake the user can fix; printed as one line."""

    def __init__(self, message: str, status: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.status = status


def fail(message: str) -> None:
    """The one line a mistake prints."""
    print(f"yc-chat: error: {message}", file=sys.stderr)


def plural(count: int, noun: str) -> str:
    """`1 org`, `2 orgs`."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def log_format(settings: Settings, env: Mapping[str, str]) -> LogFormat:
    """LOG_FORMAT when set; else text in a terminal and JSON for log collectors."""
    if env.get("LOG_FORMAT", "").strip():
        return settings.log_format
    return "text" if sys.stderr.isatty() else "json"


def configure_cli_logging(
    settings: Settings, env: Mapping[str, str], *, quiet: bool = False
) -> None:
    # One-shot commands talk in plain lines; their log shows only errors unless asked.
    level = settings.log_level if (not quiet or env.get("LOG_LEVEL")) else "ERROR"
    configure_logging(level=level, fmt=log_format(settings, env))
    # The built-in emulator's uvicorn would announce its own start and stop next to ours.
    logging.getLogger("uvicorn.error").addFilter(_not_from_emulator_thread)


def _not_from_emulator_thread(record: logging.LogRecord) -> bool:
    # Filters run in the logging thread; records carry no thread name (logThreads is off).
    in_emulator = threading.current_thread().name == "stream-emulator"
    return not in_emulator or record.levelno >= logging.WARNING
