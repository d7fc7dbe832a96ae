"""A throwaway PostgreSQL server for the suites: initdb into a temp dir, pg_ctl start/stop.

Debian's PostgreSQL (`apt-get install postgresql`) puts its binaries under
/usr/lib/postgresql/<version>/bin; `POSTGRES_BIN` names another directory. The server
listens on a free loopback port, trusts local connections, and skips durability (fsync
off): its data lives only as long as the test session. PostgreSQL refuses to run as root,
so under root the cluster belongs to the `postgres` user and its commands run through
`runuser`.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import attrs

HOW = "install PostgreSQL (`apt-get install postgresql`)"


class PostgresUnavailable(Exception):
    """No PostgreSQL can be started here; the message says why."""


def _bin_dir() -> Path | None:
    named = os.environ.get("POSTGRES_BIN")
    if named:
        return Path(named)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2] or 0))
    if found:
        return Path(found[-1])
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@attrs.define
class PostgresServer:
    """A running throwaway cluster; `stop()` shuts it down and deletes its files."""

    url: str
    port: int
    data_dir: Path
    _pg_ctl: Path = attrs.field(alias="pg_ctl")
    _as_user: tuple[str, ...] = attrs.field(alias="as_user")

    def stop(self) -> None:
        # The cluster lives in data_dir/data; its postmaster.pid says it is running.
        if (self.data_dir / "data" / "postmaster.pid").exists():
            subprocess.run(  # noqa: S603 - the system's pg_ctl, fixed arguments
                [*self._as_user, str(self._pg_ctl), "stop", "-D", str(self.data_dir / "data"),
                 "-m", "fast", "-w", "-t", "30"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
            )  # fmt: skip
        shutil.rmtree(self.data_dir, ignore_errors=True)


def start_postgres() -> PostgresServer:
    """Start a fresh cluster on a free port; raises PostgresUnavailable when impossible."""
    bin_dir = _bin_dir()
    if bin_dir is None or not (bin_dir / "initdb").is_file():
        raise PostgresUnavailable("PostgreSQL is not installed (no initdb found)")
    as_user: tuple[str, ...] = ()
    root = Path(tempfile.mkdtemp(prefix="yc-chat-pg-"))
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        if runuser is None:
            raise PostgresUnavailable("running as root without `runuser` to become postgres")
        as_user = (runuser, "-u", "postgres", "--")
        shutil.chown(root, user="postgres", group="postgres")
    os.chmod(root, 0o700)
    data = root / "data"
    log = root / "postgres.log"
    port = _free_port()
    try:
        subprocess.run(  # noqa: S603 - the system's initdb, fixed arguments
            [*as_user, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
             "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"],
            capture_output=True,
            check=True,
            timeout=120,
        )  # fmt: skip
        options = (
            f"-c port={port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200 -c shared_buffers=64MB"
        )
        subprocess.run(  # noqa: S603 - the system's pg_ctl, fixed arguments
            [*as_user, str(bin_dir / "pg_ctl"), "start", "-D", str(data), "-l", str(log),
             "-o", options, "-w", "-t", "60"],
            capture_output=True,
            check=True,
            timeout=90,
        )  # fmt: skip
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
        output = getattr(exc, "stderr", b"") or b""
        shutil.rmtree(root, ignore_errors=True)
        raise PostgresUnavailable(
            f"PostgreSQL did not start: {exc}; {output.decode(errors='replace')[-800:]}{tail}"
        ) from exc
    server = PostgresServer(
        url=f"postgresql://postgres@127.0.0.1:{port}/postgres",
        port=port,
        data_dir=root,
        pg_ctl=bin_dir / "pg_ctl",
        as_user=as_user,
    )
    _wait(server)
    return server


def _wait(server: PostgresServer, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    server.stop()
    raise PostgresUnavailable(f"PostgreSQL did not listen on 127.0.0.1:{server.port}")
