"""What `make serve` prints works: the demo's message -> webhook -> push walk-through.

The real `yc-chat serve --demo` runs; the test reads the printed commands and performs
each (the same method, URL, headers and body, without a shell), then finds the push the
vet was sent in the server's log.
"""

from __future__ import annotations

import json
import re
import shlex
import signal
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

from tests.support.commands import clean_env, free_port, yc_chat_command


def _perform(curl: str, variables: dict[str, str]) -> Any:
    """Do what one printed `curl -s -X METHOD URL -H ... -d BODY` line does; its JSON answer."""
    for name, value in variables.items():
        curl = curl.replace(f"${name}", value)
    args = shlex.split(curl)
    assert args[:2] == ["curl", "-s"], curl
    method, url, headers, body = "GET", "", {}, None
    rest = iter(args[2:])
    for arg in rest:
        if arg == "-X":
            method = next(rest)
        elif arg == "-H":
            name, _, value = next(rest).partition(": ")
            headers[name] = value
        elif arg == "-d":
            body = next(rest).encode()
        else:
            url = arg
    request = urllib.request.Request(url, data=body, headers=headers, method=method)  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.status in (200, 201), (curl, response.status)
        return json.loads(response.read())


def test_the_printed_walkthrough_delivers_a_push_to_the_vet(tmp_path: Path) -> None:
    out, err = tmp_path / "out.log", tmp_path / "err.log"
    env = clean_env({"LOG_FORMAT": "json", "ACTIVATION_INTERVAL_SECONDS": "1"})
    process = subprocess.Popen(  # noqa: S603 - our own console script, fixed arguments
        [*yc_chat_command(), "serve", "--demo", "--port", str(free_port())],
        env=env,
        cwd=tmp_path,
        stdout=out.open("w"),
        stderr=err.open("w"),
    )
    try:
        deadline = time.monotonic() + 60
        while "message -> webhook -> push" not in out.read_text(encoding="utf-8"):
            assert process.poll() is None, err.read_text(encoding="utf-8")
            assert time.monotonic() < deadline, "the demo did not print its walk-through"
            time.sleep(0.1)
        time.sleep(0.5)  # the rest of the banner
        printed = out.read_text(encoding="utf-8")
        steps = printed.split("message -> webhook -> push", 1)[1].splitlines()
        commands = [line for line in steps if line.startswith(("curl ", "STREAM_TOKEN="))]
        assert len(commands) == 3, steps
        opened = _perform(commands[0], {})
        assert opened["members"] == ["owner-sam", "vet-ana"]
        token_call = re.fullmatch(r"STREAM_TOKEN=\$\((curl .*) \| python3 -c .*\)", commands[1])
        assert token_call is not None, commands[1]
        stream_token = _perform(token_call.group(1), {})["token"]
        sent = _perform(commands[2], {"STREAM_TOKEN": stream_token})
        assert sent["message"]["user"]["id"] == "owner-sam"
        deadline = time.monotonic() + 20
        pushes: list[dict[str, Any]] = []
        while not pushes:
            assert time.monotonic() < deadline, err.read_text(encoding="utf-8")[-3000:]
            time.sleep(0.2)
            lines = err.read_text(encoding="utf-8").splitlines()
            records = [json.loads(line) for line in lines if line.startswith("{")]
            pushes = [r for r in records if r["message"] == "push notification"]
        assert [p["recipient"] for p in pushes] == ["vet-ana"]  # not the sender
        assert pushes[0]["channel"] == opened["channelId"]
        assert "Rex is limping" not in err.read_text(encoding="utf-8")  # text never logged
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        finally:
            process.kill()
