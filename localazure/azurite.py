"""Azurite (the npm package) as the Functions host's ``AzureWebJobsStorage``."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def _free_ports(count: int) -> list[int]:
    """Distinct free ports: the probes stay open until all are chosen, so none is handed out twice."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


class Azurite:
    """Blob, queue and table services on free loopback ports, in memory."""

    def __init__(self, executable: Path = ROOT / "node_modules" / ".bin" / "azurite") -> None:
        if not executable.exists():
            raise RuntimeError(f"Azurite is not installed at {executable}: run `npm ci` (or `make test`) first.")
        self.executable = executable
        self.ports: dict[str, int] = {}
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint=http://127.0.0.1:{self.ports['blob']}/{ACCOUNT};"
            f"QueueEndpoint=http://127.0.0.1:{self.ports['queue']}/{ACCOUNT};"
            f"TableEndpoint=http://127.0.0.1:{self.ports['table']}/{ACCOUNT};"
        )

    def start(self, timeout: float = 30.0, attempts: int = 3) -> Azurite:
        """Start on fresh ports; another process may take a port between probe and listen, so try again."""
        attempt = 1
        while True:
            self.ports = dict(zip(("blob", "queue", "table"), _free_ports(3), strict=True))
            try:
                return self._start_once(timeout)
            except RuntimeError as exc:
                if "EADDRINUSE" not in str(exc) or attempt >= attempts:
                    raise
            attempt += 1

    def _start_once(self, timeout: float) -> Azurite:
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
