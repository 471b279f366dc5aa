"""Helpers for tests that start real processes: a server on a free loopback port, chromium."""

from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import httpx

PROJECT = Path(__file__).resolve().parents[1]
SHARED = PROJECT.parent / "shared"
CORPUS = SHARED / "gpx-corpus"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ORGANISER_TOKEN = "test-organiser-token-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A real `refugee-walk serve` process on a loopback port, with its own SQLite file."""

    db: Path
    event: str = "antwerp-2023"
    port: int = field(default_factory=free_port)
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen | None = None
    log: Path | None = None
    database: str = ""  # a postgresql:// URL instead of the SQLite file `db`
    log_level: str = "warning"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def token(self) -> str:
        return ORGANISER_TOKEN

    @property
    def organiser(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {ORGANISER_TOKEN}"}

    def start(self, timeout_s: float = 30.0) -> Server:
        env = {**os.environ, "REFUGEE_WALK_ORGANISER_TOKEN": ORGANISER_TOKEN, **self.env}
        self.log = self.db.with_suffix(".log")
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tracking",
                    "serve",
                    "--port",
                    str(self.port),
                    "--db",
                    self.database or str(self.db),
                    "--event",
                    self.event,
                    "--log-level",
                    self.log_level,
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.db.parent,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/api/routes", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

    def restart(self, hard: bool = False) -> Server:
        self.kill9() if hard else self.stop()
        return self.start()

    def client(self, **kw) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kw)


def register_walker(srv: Server, name: str = "Walker", route_id: str = "40km", **extra) -> dict:
    with srv.client() as c:
        r = c.post(
            "/api/walkers",
            json={"name": name, "route_id": route_id, **extra},
            headers=srv.organiser,
        )
        assert r.status_code == 201, r.text
        return r.json()


def blank_png(width: int = 1, height: int = 1) -> bytes:
    """A fully transparent RGBA PNG: what the tests' "tile server" answers."""
    raw = b"".join(b"\x00" + b"\x00\x00\x00\x00" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
