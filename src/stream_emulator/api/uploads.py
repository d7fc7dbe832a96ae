"""Uploads: `POST|DELETE /channels/{type}/{id}/file` and `/image`, and the files served back
at `GET /uploads/{id}/{name}` (public, like Stream's CDN links)."""

from __future__ import annotations

import urllib.parse
from typing import Any, Final

from litestar import Request, Response, delete, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath

from stream_emulator.api.request_response import control_of, ok, principal_of
from stream_emulator.state.errors import does_not_exist, input_error, not_allowed
from stream_emulator.state.parsing import clean_json
from stream_emulator.state.uploads import MAX_UPLOAD_BYTES

# Served without Stream's authentication: the link is the capability, as on Stream's CDN.
PUBLIC: Final = {"public": True}
KINDS: Final = ("file", "image")
# Images a browser only ever displays (no scripts, unlike SVG).
INLINE_IMAGES: Final = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp"}
)


def _check_channel(
    request: Request[Any, Any, Any], endpoint: str, channel_type: str, channel_id: str
) -> str:
    """The channel's cid; a user must hold `upload-file` there (member, not frozen)."""
    control = control_of(request)
    channel = control.state.channel(channel_type, channel_id)
    if channel is None:
        raise does_not_exist(endpoint, f"Can't find channel with id {channel_type}:{channel_id}")
    principal = principal_of(request)
    if not principal.is_server:
        user_id = str(principal.user_id)
        if "upload-file" not in control.realtime.capabilities(channel, user_id):
            raise not_allowed(
                endpoint, f"User '{user_id}' is not allowed to perform action UploadAttachment"
            )
    return channel.cid


async def _upload(
    request: Request[Any, Any, Any], kind: str, channel_type: str, channel_id: str
) -> Response[Any]:
    endpoint = "UploadImage" if kind == "image" else "UploadFile"
    cid = _check_channel(request, endpoint, channel_type, channel_id)
    form = await request.form()
    sent = form.get("file")
    if not isinstance(sent, UploadFile):
        raise input_error(endpoint, "the multipart field 'file' is required")
    data = await sent.read()
    if len(data) > MAX_UPLOAD_BYTES:
        raise input_error(endpoint, f"files are limited to {MAX_UPLOAD_BYTES} bytes here")
    content_type = sent.content_type or "application/octet-stream"
    if kind == "image" and not content_type.startswith("image/"):
        raise input_error(endpoint, "an image upload must have an image/* content type")
    name = clean_json(sent.filename or kind)
    upload = control_of(request).uploads.put(
        cid=cid,
        name=name,
        content_type=clean_json(content_type),
        data=data,
        owner=principal_of(request).user_id or "",
        endpoint=endpoint,
    )
    url = f"{str(request.base_url).rstrip('/')}/uploads/{upload.id}/{urllib.parse.quote(name)}"
    body: dict[str, object] = {"file": url}
    if kind == "image":
        body["thumb_url"] = url
    return ok(request, body, 201)


async def _remove(
    request: Request[Any, Any, Any], kind: str, channel_type: str, channel_id: str
) -> Response[Any]:
    endpoint = "DeleteImage" if kind == "image" else "DeleteFile"
    cid = _check_channel(request, endpoint, channel_type, channel_id)
    url = request.query_params.get("url", "")
    parts = urllib.parse.urlsplit(url).path.split("/")
    upload_id = parts[2] if len(parts) > 2 and parts[1] == "uploads" else ""
    if not control_of(request).uploads.delete(upload_id, cid):
        raise does_not_exist(endpoint, "no such upload in this channel")
    return ok(request, {}, 200)


@post("/channels/{channel_type:str}/{channel_id:str}/file")
async def upload_file(
    request: Request[Any, Any, Any], channel_type: FromPath[str], channel_id: FromPath[str]
) -> Response[Any]:
    """UploadFile: multipart `file`; answers the URL it is served at."""
    return await _upload(request, "file", channel_type, channel_id)


@post("/channels/{channel_type:str}/{channel_id:str}/image")
async def upload_image(
    request: Request[Any, Any, Any], channel_type: FromPath[str], channel_id: FromPath[str]
) -> Response[Any]:
    """UploadImage: as UploadFile, for `image/*` content."""
    return await _upload(request, "image", channel_type, channel_id)


@delete("/channels/{channel_type:str}/{channel_id:str}/file", status_code=200)
async def delete_file(
    request: Request[Any, Any, Any], channel_type: FromPath[str], channel_id: FromPath[str]
) -> Response[Any]:
    """DeleteFile: `?url=` of an upload to this channel."""
    return await _remove(request, "file", channel_type, channel_id)


@delete("/channels/{channel_type:str}/{channel_id:str}/image", status_code=200)
async def delete_image(
    request: Request[Any, Any, Any], channel_type: FromPath[str], channel_id: FromPath[str]
) -> Response[Any]:
    """DeleteImage: `?url=` of an image uploaded to this channel."""
    return await _remove(request, "image", channel_type, channel_id)


@get("/uploads/{upload_id:str}/{name:str}", opt=PUBLIC)
async def download(
    request: Request[Any, Any, Any], upload_id: FromPath[str], name: FromPath[str]
) -> Response[bytes]:
    """The uploaded bytes with their content type."""
    upload = control_of(request).uploads.get(upload_id)
    if upload is None:
        raise does_not_exist("GetUpload", "no such upload")
    # Anyone may upload anything, and the file is served from the emulator's own origin:
    # never sniffed, and only passive media shown inline; HTML, SVG, scripts and the rest
    # are downloads, in a sandbox even if opened.
    headers = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"}
    if not _shown_inline(upload.content_type):
        quoted = urllib.parse.quote(upload.name, safe="")
        headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quoted}"
    return Response(upload.data, media_type=upload.content_type, headers=headers)


def _shown_inline(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind in INLINE_IMAGES or kind.startswith(("audio/", "video/"))


ROUTES: Final = [upload_file, upload_image, delete_file, delete_image, download]
