"""A PostgreSQL primary and its streaming replica on this machine, from Debian's PostgreSQL binaries:
what the read-replica tests run against (DATABASE_URL / DATABASE_REPLICA_URL), and a laptop can too.

    .venv/bin/python -m deploy.local.replica start    # prints both URLs; stop with `stop`

Each server is a cluster of its own in a temporary folder, on a free port of 127.0.0.1 with trust
authentication: initdb makes the primary (wal_level replica), pg_basebackup copies it into the
standby (`-R`: standby.signal and primary_conninfo), which then streams and replays its WAL. Both
log every statement, so a test can tell which server answered a query. PostgreSQL refuses to run
as root: as root, the servers run as the `postgres` user, who owns the folder.
"""

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from deploy.local import net

STATE = Path(tempfile.gettempdir()) / "c4ang-replica.json"
DATABASE = "c4ang"


def binaries() -> Path:
    """The folder of Debian's PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup), installed
    with apt-get when missing (needs root, as on CI)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        if os.geteuid() != 0:
            raise RuntimeError("PostgreSQL's server binaries are missing: sudo apt-get install postgresql")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "postgresql"], check=True, env=env
        )
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent


def as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@dataclass(frozen=True)
class Server:
    data: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgres://postgres@{net.LOOPBACK}:{self.port}/{DATABASE}"

    @property
    def log(self) -> Path:
        return self.data.parent / f"{self.data.name}.log"


@dataclass
class StreamingPair:
    root: Path
    primary: Server
    standby: Server

    def sql(self, server: Server, statement: str) -> str:
        """Run one statement on `server` with psql; its output, unaligned."""
        psql = [str(binaries() / "psql"), "-h", net.LOOPBACK, "-p", str(server.port), "-U", "postgres"]
        result = subprocess.run(
            [*psql, "-d", DATABASE, "-At", "-c", statement], check=True, capture_output=True, text=True
        )
        return result.stdout.strip()

    def pause_replay(self) -> None:
        self.sql(self.standby, "SELECT pg_wal_replay_pause()")

    def resume_replay(self) -> None:
        self.sql(self.standby, "SELECT pg_wal_replay_resume()")

    def wait_replayed(self, deadline_s: float = 30) -> None:
        """Return once the standby has replayed everything the primary has written so far."""
        written = self.sql(self.primary, "SELECT pg_current_wal_lsn()")
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            if self.sql(self.standby, f"SELECT pg_last_wal_replay_lsn() >= '{written}'::pg_lsn") == "t":
                return
            time.sleep(0.05)
        raise TimeoutError(f"the standby has not replayed up to {written} after {deadline_s}s; see {self.standby.log}")

    def stop_server(self, server: Server) -> None:
        pg_ctl = str(binaries() / "pg_ctl")
        subprocess.run(
            as_server_user([pg_ctl, "-D", str(server.data), "-m", "fast", "-w", "stop"]),
            check=False,
            capture_output=True,
        )

    def stop(self) -> None:
        for server in (self.standby, self.primary):
            if (server.data / "postmaster.pid").exists():
                self.stop_server(server)
        shutil.rmtree(self.root, ignore_errors=True)


def start_server(server: Server) -> None:
    pg_ctl = str(binaries() / "pg_ctl")
    options = f"-p {server.port} -k {server.data.parent} -c listen_addresses={net.LOOPBACK}"
    subprocess.run(
        as_server_user([pg_ctl, "-D", str(server.data), "-l", str(server.log), "-o", options, "-w", "start"]),
        check=True,
        capture_output=True,
    )


def start_pair() -> StreamingPair:
    """A primary with a database `c4ang` and a standby streaming from it, both started."""
    bin_dir = binaries()
    root = Path(tempfile.mkdtemp(prefix="c4ang-replica-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    pair = StreamingPair(root, Server(root / "primary", net.free_port()), Server(root / "standby", net.free_port()))
    try:
        subprocess.run(
            as_server_user(
                [str(bin_dir / "initdb"), "-D", str(pair.primary.data), "-U", "postgres", "--auth=trust", "--no-sync"]
            ),
            check=True,
            capture_output=True,
        )
        settings = [
            "wal_level = replica",
            "max_wal_senders = 4",
            "fsync = off",  # a test's cluster: nothing to keep across a crash
            "log_statement = 'all'",
            "log_line_prefix = '%m [%p] '",
        ]
        with (pair.primary.data / "postgresql.conf").open("a") as conf:
            conf.write("\n".join(settings) + "\n")
        start_server(pair.primary)
        createdb = [str(bin_dir / "createdb"), "-h", net.LOOPBACK, "-p", str(pair.primary.port), "-U", "postgres"]
        subprocess.run([*createdb, DATABASE], check=True, capture_output=True)
        basebackup = [
            str(bin_dir / "pg_basebackup"),
            "-h",
            net.LOOPBACK,
            "-p",
            str(pair.primary.port),
            "-U",
            "postgres",
        ]
        subprocess.run(
            as_server_user(
                [*basebackup, "-D", str(pair.standby.data), "-R", "-X", "stream", "--checkpoint=fast", "--no-sync"]
            ),
            check=True,
            capture_output=True,
        )
        start_server(pair.standby)
        pair.wait_replayed()
    except BaseException:
        pair.stop()
        raise
    return pair


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["start", "stop"])
    action = parser.parse_args().action
    if action == "start":
        pair = start_pair()
        STATE.write_text(json.dumps({"root": str(pair.root), "ports": [pair.primary.port, pair.standby.port]}))
        print(f"DATABASE_URL={pair.primary.url}\nDATABASE_REPLICA_URL={pair.standby.url}")
    elif STATE.exists():
        state = json.loads(STATE.read_text())
        root = Path(state["root"])
        primary_port, standby_port = state["ports"]
        StreamingPair(root, Server(root / "primary", primary_port), Server(root / "standby", standby_port)).stop()
        STATE.unlink()


if __name__ == "__main__":
    main()
