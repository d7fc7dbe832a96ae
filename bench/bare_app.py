"""The baseline: a bare Litestar app on the same server stack as `yc-chat serve`.

`GET /` is the hello route (no work); `POST /crypto` does only the token endpoint's
cryptography: verify the caller's HS256 JWT like the service's authenticator, sign a Stream
user token like the service. Run: `python -m bench.bare_app PORT` with BENCH_JWT_SECRET and
BENCH_STREAM_SECRET set.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import jwt
import uvicorn
from litestar import Litestar, Request, get, post

from yc_chat.entrypoints.cli_server import serve_forever, server_config

_OPTIONS: Any = {"require": ["exp", "sub"], "verify_aud": False, "verify_iss": False}
TOKEN_TTL_SECONDS = 24 * 3600


def build(jwt_secret: str, stream_secret: str) -> Litestar:
    """The two baseline routes."""

    @get("/")
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    @post("/crypto", status_code=200)
    async def crypto(request: Request[Any, Any, Any]) -> dict[str, Any]:
        token = request.headers.get("authorization", "").partition(" ")[2]
        claims = jwt.decode(token, jwt_secret, algorithms=["HS256"], leeway=30, options=_OPTIONS)
        now = int(time.time())
        expires = now + TOKEN_TTL_SECONDS
        signed = jwt.encode(
            {"user_id": claims["sub"], "iat": now, "exp": expires},
            stream_secret,
            algorithm="HS256",
        )
        return {"token": signed, "expiresAt": expires * 1000}

    return Litestar([hello, crypto], logging_config=None, debug=False)


async def _serve(port: int, jwt_secret: str, stream_secret: str) -> None:
    config = server_config(build(jwt_secret, stream_secret), host="127.0.0.1", port=port)
    await uvicorn.Server(config).serve()


if __name__ == "__main__":
    serve_forever(
        _serve(int(sys.argv[1]), os.environ["BENCH_JWT_SECRET"], os.environ["BENCH_STREAM_SECRET"])
    )
