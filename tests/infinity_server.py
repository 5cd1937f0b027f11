"""Start Infinity (https://github.com/michaelfeil/infinity), a real OpenAI-compatible
embedding server, on loopback: for tests/test_infinity.py and bench/embed.py.

Infinity pins transformers 4.x, so it lives in a virtual environment of its own:
FATHOM_INFINITY_VENV, by default ~/.cache/fathom-infinity-venv, which .ci/run makes.
"""
from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import httpx

VENV = Path(os.environ.get("FATHOM_INFINITY_VENV") or Path.home() / ".cache" / "fathom-infinity-venv")


class Infinity:
    """`infinity_emb v2` serving the model folder `model` as `name`, on a free port."""

    @staticmethod
    def installed() -> bool:
        return (VENV / "bin" / "infinity_emb").exists()

    def __init__(self, model: Path, name: str, log: Path, key: str | None = None):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.name = name
        self.key = key
        self.log = log
        self._output = log.open("wb")
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "DO_NOT_TRACK": "1", "INFINITY_ANONYMOUS_USAGE_STATS": "0"}
        self.process = subprocess.Popen(
            [str(VENV / "bin" / "infinity_emb"), "v2", "--model-id", str(model), "--served-model-name", name,
             "--host", "127.0.0.1", "--port", str(self.port), "--url-prefix", "/v1", "--engine", "torch",
             "--device", "cpu", "--no-model-warmup"] + (["--api-key", key] if key else []),
            stdout=self._output, stderr=subprocess.STDOUT, env=env,
        )

    def wait_ready(self, seconds: float = 180) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Infinity exited ({self.process.returncode}):\n{self.log.read_text()[-3000:]}")
            try:
                headers = {"Authorization": f"Bearer {self.key}"} if self.key else {}
                answer = httpx.get(f"{self.url}/models", headers=headers, timeout=2)
                if answer.status_code == 200 and answer.json()["data"][0]["id"] == self.name:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"Infinity did not answer within {seconds:.0f} s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._output.close()
