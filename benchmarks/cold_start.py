"""Cold start: what importing function_app costs, against importing everything eagerly.

Prints ratios (this machine is noisy; absolute times mean little). Each figure is the
median of several fresh interpreters, with bytecode caching on, as the Functions host has.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 5
EAGER = (
    "import function_app, azure.identity, azure.keyvault.secrets, azure.mgmt.storage, "
    "azure.mgmt.cosmosdb, azure.storage.blob"
)


def seconds(code: str) -> float:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": ""}
    env.pop("PYTHONDONTWRITEBYTECODE")
    probe = f"import time; t = time.perf_counter(); {code}; print(time.perf_counter() - t)"
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(RUNS + 1)
    ][1:]  # the first run writes the bytecode caches
    return statistics.median(runs)


def main() -> None:
    baseline = seconds("import azure.functions")
    app = seconds("import function_app")
    eager = seconds(EAGER)
    print(f"function_app import / azure.functions alone: {app / baseline:.2f}x")
    print(f"every SDK imported eagerly / function_app:    {eager / app:.2f}x  (what lazy imports save)")


if __name__ == "__main__":
    main()
