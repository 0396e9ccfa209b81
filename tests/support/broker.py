"""A real Mosquitto on a free loopback port, started and stopped by the test."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    def __init__(self, directory: Path) -> None:
        self.port = _free_port()
        self.conf = directory / "mosquitto.conf"
        self.conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\n")
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.process = subprocess.Popen(
            [binary, "-c", str(self.conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port)):
                return
            subprocess.run(["sleep", "0.05"], check=False)
        raise RuntimeError("mosquitto did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


class PersistentBroker(Broker):
    """Keeps subscribers' sessions across its own restart (``persistence true``)."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        store = directory / "mosquitto-store"
        store.mkdir()
        lines = [
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            "persistence true",
            f"persistence_location {store}/",
            "max_queued_messages 10000",
        ]
        if os.geteuid() == 0:
            lines.insert(0, "user root")  # the store is in a folder only root may enter
        self.conf.write_text("\n".join(lines) + "\n")
