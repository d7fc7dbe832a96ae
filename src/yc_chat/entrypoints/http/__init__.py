"""The HTTP entry point: a Litestar app serving the contract."""

from yc_chat.entrypoints.http.app import create_app

__all__ = ["create_app"]
