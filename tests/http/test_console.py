"""The clinic console routes of `serve --demo`: public page and config, or a clear 503."""

from __future__ import annotations

from pathlib import Path

from tests.support.world import World
from yc_chat.entrypoints.http.console import console_routes

CONFIG = {"appointmentId": "apt-1", "personas": [{"key": "vet", "bearer": "demo-token"}]}


async def test_the_built_page_and_its_config_need_no_bearer(world: World, tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><title>console</title>")
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "app.js").write_text("console.log('up')")
    for handler in console_routes(CONFIG, directory=tmp_path):
        world.app.register(handler)

    page = await world.client.get("/demo/")
    script = await world.client.get("/demo/assets/app.js")
    config = await world.client.get("/demo/config.json")

    assert page.status_code == 200 and "<title>console</title>" in page.text
    assert script.status_code == 200 and "console.log" in script.text
    assert config.status_code == 200 and config.json() == CONFIG
    assert config.headers["cache-control"] == "no-store"
    # The API itself still wants a bearer token.
    assert (await world.client.get("/api/chat/channels")).status_code == 401


async def test_an_unbuilt_page_says_how_to_build_it(world: World, tmp_path: Path) -> None:
    for handler in console_routes(CONFIG, directory=tmp_path):
        world.app.register(handler)

    page = await world.client.get("/demo/")

    assert page.status_code == 503
    assert "make serve" in page.text and "not built" in page.text
