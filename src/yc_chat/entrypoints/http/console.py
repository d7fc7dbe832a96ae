"""The clinic console of `yc-chat serve --demo`, at `/demo/`: a built web page and its config.

The page (`web/`, built with Vite into `entrypoints/console/` by `make serve`) signs the
demo's vet and pet owner in through the token endpoint and talks to Stream with the
official client. `GET /demo/config.json` hands it the demo personas' bearer tokens: it is
registered only in demo mode, whose JWT secret is generated for the run and whose users
are made up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from litestar import Response, Router, get
from litestar.datastructures import CacheControlHeader
from litestar.static_files import create_static_files_router

from yc_chat.entrypoints.http.keys import OPT_PUBLIC

CONSOLE_DIR: Final = Path(__file__).resolve().parent.parent / "console"
NOT_BUILT: Final = """<!doctype html><meta charset="utf-8"><title>Clinic console</title>
<h1>The clinic console is not built</h1>
<p>Run <code>make serve</code> (it builds the page with npm when Node is installed), or
<code>make console</code>, then reload.</p>"""


def console_routes(config: Mapping[str, object], directory: Path = CONSOLE_DIR) -> Sequence[Any]:
    """The handlers serving the console page and its config under `/demo`."""

    # The page itself signs in through the API: loading it needs no bearer token.
    public = {OPT_PUBLIC: True}

    @get(
        "/demo/config.json",
        opt=public,
        include_in_schema=False,
        cache_control=CacheControlHeader(no_store=True),
    )
    async def console_config() -> Mapping[str, object]:
        return config

    if not (directory / "index.html").is_file():

        @get(["/demo", "/demo/"], opt=public, include_in_schema=False, media_type="text/html")
        async def not_built() -> Response[str]:
            return Response(NOT_BUILT, status_code=503, media_type="text/html")

        return [console_config, not_built]
    page: Router = create_static_files_router(
        path="/demo", directories=[directory], html_mode=True, name="console", opt=public
    )
    return [console_config, page]
