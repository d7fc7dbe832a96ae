"""Redis is optional: without it `serve` keeps serving, and says it runs degraded.

A real `yc-chat serve` pointed at a Redis nobody answers: `/readyz` is 200 `degraded`
naming `redis` (a load balancer keeps sending traffic), the log says so once however
often readiness is asked, `/metrics` shows `yc_chat_degraded{part="redis"} 1`, and the
token budget still holds, counted in the process.
"""

from __future__ import annotations

import json
import subprocess
import urllib.request
from pathlib import Path

from tests.support.commands import clean_env, free_port, wait_serving, yc_chat_command
from tests.support.processes import metric_samples, request

SECRET = "degraded-readiness-secret-" + "d" * 32


def test_redis_down_is_degraded_not_unready(tmp_path: Path) -> None:
    port = free_port()
    env = clean_env(
        {"JWT_SECRET": SECRET, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
         "LOG_FORMAT": "json", "TOKEN_RATE_LIMIT": "2/minute"}
    )  # fmt: skip
    process = subprocess.Popen(  # noqa: S603 - our own console script, fixed arguments
        [*yc_chat_command(), "serve", "--demo", "--port", str(port)],
        env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_serving(process, base)
        for _ in range(3):
            status, ready = request("GET", base + "/readyz")
            assert status == 200, ready
            assert ready["status"] == "degraded"
            assert ready["degraded"] == ["redis"]
            assert ready["checks"] == {
                "stores": "ok", "chat": "ok", "setup": "ok", "redis": "degraded"
            }  # fmt: skip
        with urllib.request.urlopen(base + "/metrics", timeout=10) as r:  # noqa: S310
            assert metric_samples(r.read().decode())['yc_chat_degraded{part="redis"}'] == 1
    finally:
        process.terminate()
        _, log = process.communicate(timeout=30)
    records = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    degraded = [r for r in records if r["message"].startswith("degraded: redis")]
    assert len(degraded) == 1, [r["message"] for r in records]
    assert "rate limits are counted in each process" in degraded[0]["message"]
    assert "Traceback" not in log
