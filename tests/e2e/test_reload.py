"""`yc-chat serve --reload`: the reloader runs serve in a child and stops cleanly."""

from __future__ import annotations

import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from tests.support.commands import clean_env, free_port, yc_chat_command


def test_reload_serves_the_demo_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    out, err = tmp_path / "out.log", tmp_path / "err.log"
    process = subprocess.Popen(  # noqa: S603 - our own console script, fixed arguments
        [*yc_chat_command(), "serve", "--demo", "--reload", "--port", str(port)],
        env=clean_env({"LOG_FORMAT": "json"}),
        cwd=tmp_path,
        stdout=out.open("w"),
        stderr=err.open("w"),
    )
    try:
        deadline = time.monotonic() + 60
        while "yc-chat demo clinic is up" not in out.read_text(encoding="utf-8"):
            assert process.poll() is None, err.read_text(encoding="utf-8")
            assert time.monotonic() < deadline, "the reloaded demo did not start in 60 s"
            time.sleep(0.1)
        url = f"http://127.0.0.1:{port}/healthz"
        with urllib.request.urlopen(url, timeout=5) as response:
            assert response.status == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        process.kill()
        process.wait()
    stderr = err.read_text(encoding="utf-8")
    assert "reload: watching for changes" in stderr
    assert "Traceback" not in stderr
