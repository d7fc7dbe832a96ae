"""Files and images uploaded to the emulator, kept in memory and served back by URL."""

from __future__ import annotations

import threading
import uuid

import attrs

from stream_emulator.state.errors import RATE_LIMIT_ERROR, StreamAPIError

# Litestar refuses larger request bodies (413) before a route sees them; Stream allows more,
# but a local tool keeping files in memory should not.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# What the emulator holds in memory, per uploader and in all: one client cannot fill it.
MAX_UPLOADS_PER_USER = 100
MAX_UPLOAD_BYTES_PER_USER = 50 * 1024 * 1024
MAX_UPLOAD_BYTES_HELD = 200 * 1024 * 1024


@attrs.frozen(kw_only=True)
class Upload:
    """One stored file: where it was sent, its name, type and bytes."""

    id: str
    cid: str
    name: str
    content_type: str
    data: bytes = attrs.field(repr=False)
    # Who uploaded it (a user id, or "" for the server): whose allowance it counts against.
    owner: str = ""


class Uploads:
    """Thread-safe in-memory file store; `clear` on an emulator reset."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._files: dict[str, Upload] = {}

    def put(
        self,
        *,
        cid: str,
        name: str,
        content_type: str,
        data: bytes,
        owner: str = "",
        endpoint: str = "UploadFile",
    ) -> Upload:
        """Keep a file; returns it with its new id. Over an allowance, a 429 (Stream's
        rate-limit error) and nothing kept: deleting files frees it again."""
        upload = Upload(
            id=uuid.uuid4().hex,
            cid=cid,
            name=name,
            content_type=content_type,
            data=data,
            owner=owner,
        )
        with self._lock:
            self._check_room(endpoint=endpoint, owner=owner, size=len(data))
            self._files[upload.id] = upload
        return upload

    def _check_room(self, *, endpoint: str, owner: str, size: int) -> None:
        mine = [f for f in self._files.values() if f.owner == owner]
        held = sum(len(f.data) for f in self._files.values())
        if len(mine) >= MAX_UPLOADS_PER_USER:
            problem = f"at most {MAX_UPLOADS_PER_USER} files per user are kept"
        elif sum(len(f.data) for f in mine) + size > MAX_UPLOAD_BYTES_PER_USER:
            problem = f"at most {MAX_UPLOAD_BYTES_PER_USER} bytes of files per user are kept"
        elif held + size > MAX_UPLOAD_BYTES_HELD:
            problem = "the emulator holds as many uploaded bytes as it will"
        else:
            return
        raise StreamAPIError(
            429, RATE_LIMIT_ERROR, f'{endpoint} failed with error: "{problem}, delete some first"'
        )

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
