"""Files and images uploaded to the emulator, kept in memory and served back by URL."""

from __future__ import annotations

import threading
import uuid

import attrs

# Litestar refuses larger request bodies (413) before a route sees them; Stream allows more,
# but a local tool keeping files in memory should not.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


@attrs.frozen(kw_only=True)
class Upload:
    """One stored file: where it was sent, its name, type and bytes."""

    id: str
    cid: str
    name: str
    content_type: str
    data: bytes = attrs.field(repr=False)


class Uploads:
    """Thread-safe in-memory file store; `clear` on an emulator reset."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._files: dict[str, Upload] = {}

    def put(self, *, cid: str, name: str, content_type: str, data: bytes) -> Upload:
        """Keep a file; returns it with its new id."""
        upload = Upload(
            id=uuid.uuid4().hex, cid=cid, name=name, content_type=content_type, data=data
        )
        with self._lock:
            self._files[upload.id] = upload
        return upload

    def get(self, upload_id: str) -> Upload | None:
        """The file, or None."""
        with self._lock:
            return self._files.get(upload_id)

    def delete(self, upload_id: str, cid: str) -> bool:
        """Forget the channel's file; whether there was one."""
        with self._lock:
            found = self._files.get(upload_id)
            if found is None or found.cid != cid:
                return False
            del self._files[upload_id]
            return True

    def clear(self) -> None:
        """Forget every file."""
        with self._lock:
            self._files.clear()
