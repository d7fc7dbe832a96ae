"""`/_emulator/...`: the emulator's own switches (faults, reset), for server-side callers only."""

from __future__ import annotations

from typing import Any, Final

from litestar import Request, Response, delete, post

from stream_emulator.api.request_response import control_of, ok, read_body, server_only
from stream_emulator.control import EmulatorControl
from stream_emulator.state.errors import input_error


def faults_json(handle: EmulatorControl) -> dict[str, object]:
    faults = handle.faults
    return {
        "fail_status": faults.fail_status,
        "fail_remaining": faults.fail_remaining,
        "fail_only": faults.fail_only,
        "delay": faults.delay,
    }


@post("/_emulator/faults", status_code=200)
async def set_faults(request: Request[Any, Any, Any]) -> Response[Any]:
    """Switch faults on: `{"fail_status": 503, "fail_count": 2, "delay": 0.5}`."""
    endpoint = "EmulatorFaults"
    server_only(request, endpoint)
    body = await read_body(request, endpoint)
    control = control_of(request)
    status = body.get("fail_status")
    count = body.get("fail_count")
    only = body.get("fail_only")
    delay = body.get("delay", 0)
    try:
        if status is not None:
            if isinstance(status, bool) or not isinstance(status, int):
                raise input_error(endpoint, "fail_status must be an integer")
            if count is not None and (isinstance(count, bool) or not isinstance(count, int)):
                raise input_error(endpoint, "fail_count must be an integer")
            if only is not None and not isinstance(only, str):
                raise input_error(endpoint, "fail_only must be a string like 'POST /channels'")
            control.fail(status, count=count, only=only)
        if isinstance(delay, bool) or not isinstance(delay, int | float):
            raise input_error(endpoint, "delay must be a number of seconds")
        control.slow(float(delay))
    except ValueError as exc:
        raise input_error(endpoint, str(exc)) from exc
    return ok(request, {"faults": faults_json(control)}, 200)


@delete("/_emulator/faults", status_code=200)
async def clear_faults(request: Request[Any, Any, Any]) -> Response[Any]:
    """Switch every fault off."""
    server_only(request, "EmulatorFaults")
    control = control_of(request)
    control.heal()
    return ok(request, {"faults": faults_json(control)}, 200)


@post("/_emulator/reset", status_code=200)
async def reset_state(request: Request[Any, Any, Any]) -> Response[Any]:
    """Forget every user, channel and message."""
    server_only(request, "EmulatorReset")
    control_of(request).reset()
    return ok(request, {}, 200)


ROUTES: Final = [set_faults, clear_faults, reset_state]
