"""Structured logging: one JSON object per line, stamped with the current request id."""

from __future__ import annotations

import contextvars
import logging
import sys
import time
from collections.abc import Mapping
from typing import Any, cast

import msgspec

from yc_chat.entrypoints.settings import LogFormat

# Set by the HTTP layer for the duration of a request (and its background tasks).
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "yc_chat_request_id", default=None
)

# The attribute where StructuredLogger keeps a record's `extra=` mapping, so formatters
# read the extras directly instead of reflecting over every attribute of every record.
FIELDS_ATTR = "yc_fields"
# Extras some libraries add that carry nothing a JSON line needs.
_SKIPPED_FIELDS = frozenset({"color_message"})
_NO_FIELDS: Mapping[str, Any] = {}


class StructuredLogger(logging.Logger):
    """A Logger that also keeps the `extra=` mapping whole on the record."""

    def makeRecord(
        self,
        name: str,
        level: int,
        fn: str,
        lno: int,
        msg: object,
        args: Any,
        exc_info: Any,
        func: str | None = None,
        extra: Mapping[str, object] | None = None,
        sinfo: str | None = None,
    ) -> logging.LogRecord:
        record = super().makeRecord(name, level, fn, lno, msg, args, exc_info, func, extra, sinfo)
        if extra:
            setattr(record, FIELDS_ATTR, extra)
        return record


def fields_of(record: logging.LogRecord) -> Mapping[str, Any]:
    """The record's `extra=` fields (empty for records from loggers of another class)."""
    fields: Mapping[str, Any] = getattr(record, FIELDS_ATTR, _NO_FIELDS)
    return fields


class _Clock:
    """ISO-8601 UTC timestamps, formatted once per second (the millisecond part per record)."""

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def iso(self, created: float) -> str:
        second = int(created)
        if second != self._second:
            self._second = second
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._prefix}.{int((created - second) * 1000):03d}+00:00"


# Anything JSON has no form for is written as its str(), as json.dumps(default=str) did.
_encode = msgspec.json.Encoder(enc_hook=str).encode


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line: time, level, logger, message, request id, extras."""

    def __init__(self) -> None:
        super().__init__()
        self._clock = _Clock()

    def format(self, record: logging.LogRecord) -> str:
        exception = self.formatException(record.exc_info) if record.exc_info else None
        return self.line(
            record.created,
            record.levelname,
            record.name,
            record.getMessage(),
            fields_of(record),
            exception,
        )

    def line(
        self,
        created: float,
        level: str,
        name: str,
        message: str,
        fields: Mapping[str, Any],
        exception: str | None = None,
    ) -> str:
        """The JSON line of one entry (what `format` writes for a record with these)."""
        entry: dict[str, Any] = {
            "time": self._clock.iso(created),
            "level": level,
            "logger": name,
            "message": message,
            "request_id": request_id_var.get(),
        }
        for key, value in fields.items():
            if value is not None and key not in _SKIPPED_FIELDS:
                entry[key] = value
        if entry["request_id"] is None:
            del entry["request_id"]
        if exception is not None:
            entry["exception"] = exception
        # msgspec: a fifth of json.dumps' time on the access line every request writes.
        return _encode(entry).decode()


class JsonLinesHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The stream handler `configure_logging` installs for JSON lines. `log_info` writes
    through it directly, without a LogRecord, when it is a line's only destination."""

    def write_entry(self, name: str, message: str, fields: Mapping[str, Any]) -> None:
        """Write one INFO entry as `emit` would write its record."""
        formatter = cast(JsonFormatter, self.formatter)  # log_info checked its type
        try:
            line = formatter.line(time.time(), "INFO", name, message, fields)
            with self.lock:  # type: ignore[union-attr] # created by Handler.__init__
                self.stream.write(line + self.terminator)
                self.flush()
        except RecursionError:
            raise
        except Exception:
            record = logging.makeLogRecord({"name": name, "msg": message, "levelno": 20})
            self.handleError(record)


def log_info(logger: logging.Logger, message: str, fields: Mapping[str, Any]) -> None:
    """`logger.info(message, extra=fields)`; when its only destination is the JSON handler
    `configure_logging` installed (no filter anywhere, no other handler), the line is
    written there directly. Building and dispatching a LogRecord was a tenth of a small
    request (the access line of every request)."""
    if not logger.isEnabledFor(logging.INFO):
        return
    handler = _sole_json_handler(logger)
    if handler is None:
        logger.info(message, extra=fields)
    else:
        handler.write_entry(logger.name, message, fields)


def _sole_json_handler(logger: logging.Logger) -> JsonLinesHandler | None:
    """The one handler an INFO record of `logger` would reach, when it is a plain
    JsonLinesHandler and no filter would see the record; else None."""
    if logger.filters:
        return None
    found: JsonLinesHandler | None = None
    current: logging.Logger | None = logger
    while current is not None:
        for handler in current.handlers:
            if (
                found is not None
                or type(handler) is not JsonLinesHandler
                or handler.filters
                or handler.level > logging.INFO
                or type(handler.formatter) is not JsonFormatter
            ):
                return None
            found = handler
        if not current.propagate:
            break
        current = current.parent
    return found


class TextFormatter(logging.Formatter):
    """Human-readable lines for local runs, still carrying the extras."""

    def format(self, record: logging.LogRecord) -> str:
        fields = dict(fields_of(record))
        fields.setdefault("request_id", request_id_var.get())
        extras = " ".join(
            f"{key}={value}"
            for key, value in fields.items()
            if value is not None and key not in _SKIPPED_FIELDS
        )
        line = f"{record.levelname:<7} {record.name}: {record.getMessage()}"
        if extras:
            line += f"  [{extras}]"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def use_structured_loggers() -> None:
    """Make every logger, existing or future, a StructuredLogger."""
    logging.setLoggerClass(StructuredLogger)
    for existing in list(logging.Logger.manager.loggerDict.values()):
        # Plain loggers created at import time (ours and libraries') get the subclass; it
        # adds behaviour only, no state, so swapping the class of a live logger is safe.
        if type(existing) is logging.Logger:
            existing.__class__ = StructuredLogger
    root = logging.getLogger()
    if type(root) is logging.RootLogger:
        root.__class__ = _StructuredRoot


class _StructuredRoot(logging.RootLogger):
    makeRecord = StructuredLogger.makeRecord


def configure_logging(*, level: str = "INFO", fmt: LogFormat = "json") -> None:
    """Send every log record to stderr in the chosen format (the process entry point calls this)."""
    use_structured_loggers()
    # The logging docs' optimisations: no caller lookup (a stack walk per record), no
    # thread, process or multiprocessing names; no line we write shows them.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler: logging.Handler
    if fmt == "json":
        handler = JsonLinesHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Uvicorn's own access log would print full URLs; ours is the structured one.
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    # httpx logs every request URL at INFO; not useful in a server's log.
    logging.getLogger("httpx").setLevel(logging.WARNING)
