"""Uploads on the emulator through the official Python SDK (sync and async): kept in
memory, served back by their URL, refused to outsiders and in frozen channels."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from stream_chat import StreamChat
from stream_chat.async_chat.client import StreamChatAsync
from stream_chat.base.exceptions import StreamAPIException

from stream_emulator import RunningEmulator
from tests.support.emulator import API_KEY, API_SECRET, as_user
from tests.support.emulator import stream_emulator as stream_emulator  # the fixture

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


@pytest.fixture
def picture(tmp_path: Path) -> Path:
    path = tmp_path / "rex.png"
    path.write_bytes(PNG)
    return path


def test_a_member_uploads_an_image_that_is_served_back_and_deleted(
    emulator: RunningEmulator, server: StreamChat, picture: Path
) -> None:
    channel = as_user(emulator, "sam").channel("messaging", "visit")

    sent = channel.send_image(str(picture), "rex.png", {"id": "sam"}, content_type="image/png")
    served = httpx.get(sent["file"])  # no credentials: the link is enough, as on Stream's CDN

    assert sent["file"].startswith(emulator.base_url + "/uploads/")
    assert (served.status_code, served.content) == (200, PNG)
    assert served.headers["content-type"] == "image/png"
    channel.delete_image(sent["file"])
    assert httpx.get(sent["file"]).status_code == 404


async def test_the_async_sdk_uploads_a_file_server_side(
    emulator: RunningEmulator, server: StreamChat, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"Rex: 12 kg")
    client = StreamChatAsync(API_KEY, API_SECRET, base_url=emulator.base_url)
    try:
        sent = await client.channel("messaging", "visit").send_file(
            str(notes), "notes.txt", {"id": "ana"}, content_type="text/plain"
        )
    finally:
        await client.close()
    async with httpx.AsyncClient() as http:
        served = await http.get(sent["file"])
    assert served.content == b"Rex: 12 kg"


def test_outsiders_frozen_channels_and_non_images_are_refused(
    emulator: RunningEmulator, server: StreamChat, picture: Path
) -> None:
    with pytest.raises(StreamAPIException) as outsider:
        as_user(emulator, "cleo").channel("messaging", "visit").send_file(
            str(picture), "rex.png", {"id": "cleo"}
        )
    with pytest.raises(StreamAPIException) as not_an_image:
        as_user(emulator, "sam").channel("messaging", "visit").send_image(
            str(picture), "rex.txt", {"id": "sam"}, content_type="text/plain"
        )
    server.channel("messaging", "visit").update_partial({"frozen": True})
    with pytest.raises(StreamAPIException) as frozen:
        as_user(emulator, "sam").channel("messaging", "visit").send_file(
            str(picture), "rex.png", {"id": "sam"}
        )

    assert (outsider.value.status_code, outsider.value.error_code) == (403, 17)
    assert (frozen.value.status_code, frozen.value.error_code) == (403, 17)
    assert (not_an_image.value.status_code, not_an_image.value.error_code) == (400, 4)


def test_uploads_need_stream_credentials(emulator: RunningEmulator, server: StreamChat) -> None:
    anonymous = httpx.post(
        f"{emulator.base_url}/channels/messaging/visit/file",
        params={"api_key": API_KEY},
        files={"file": ("x.txt", b"x", "text/plain")},
    )
    assert anonymous.status_code == 401
