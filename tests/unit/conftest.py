"""Fixtures shared by the unit suites: `decodes` counts the caller-token verifications."""

from __future__ import annotations

from typing import Any

import jwt
import pytest

from yc_chat.entrypoints.http import auth


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every full verification of a caller token (PyJWT's decode in http.auth), in order."""
    seen: list[str] = []
    real = jwt.decode

    def counted(token: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(token)
        return real(token, *args, **kwargs)

    monkeypatch.setattr(auth.jwt, "decode", counted)
    return seen
