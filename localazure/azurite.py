"""Azurite (the npm package) as the Functions host's ``AzureWebJobsStorage``."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Azurite:
    """Blob, queue and table services on free loopback ports, in memory."""

    def __init__(self, executable: Path = ROOT / "node_modules" / ".bin" / "azurite") -> None:
        if not executable.exists():
            raise RuntimeError(f"Azurite is not installed at {executable}: run `npm ci` (or `make test`) first.")
        self.executable = executable
        self.ports = {"blob": _free_port(), "queue": _free_port(), "table": _free_port()}
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint=http://127.0.0.1:{self.ports['blob']}/{ACCOUNT};"
            f"QueueEndpoint=http://127.0.0.1:{self.ports['queue']}/{ACCOUNT};"
            f"TableEndpoint=http://127.0.0.1:{self.ports['table']}/{ACCOUNT};"
        )

    def start(self, timeout: float = 30.0) -> Azurite:
        self._process = subprocess.Popen(
            [
                str(self.executable),
                "--silent",
                "--inMemoryPersistence",
                "--skipApiVersionCheck",
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                str(self.ports["blob"]),
                "--queueHost",
                "127.0.0.1",
                "--queuePort",
                str(self.ports["queue"]),
                "--tableHost",
                "127.0.0.1",
                "--tablePort",
                str(self.ports["table"]),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                error = self._process.stderr.read().decode(errors="replace") if self._process.stderr else ""
                raise RuntimeError(f"Azurite exited with code {self._process.returncode}: {error.strip()}")
            if all(_listening(port) for port in self.ports.values()):
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Azurite did not listen on {self.ports} within {timeout:.0f} s")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
        self._process = None

    def __enter__(self) -> Azurite:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0
