"""Run the devnode with uvicorn on a background thread; stop it, restart it, take it down for a while.

Used by tests (``running_devnode``) and by the CLI (``cli.serve``). "Down" really closes the
listening socket, so clients get *connection refused*, and "up" re-binds the same port.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from ceramic_pipeline.devnode.aggregator import DEFAULT_CACHE_STREAMS, Aggregator
from ceramic_pipeline.devnode.faults import Faults, FaultState
from ceramic_pipeline.devnode.server import create_app
from ceramic_pipeline.devnode.store import EventStore

START_TIMEOUT = 10.0


class DevNode:
    """One devnode: a store, an app and (while up) a uvicorn server thread."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        data_dir: str | Path | None = None,
        network: str = "inmemory",
        faults: Faults | None = None,
        test_hooks: bool = True,
        cache_streams: int = DEFAULT_CACHE_STREAMS,
    ) -> None:
        """``cache_streams``: how many streams' states to keep in memory (0: recompute on every request)."""
        self.host = host
        self.port = port
        self.store = EventStore(data_dir)
        self.aggregator = Aggregator(self.store, cache_streams=cache_streams)
        self.fault_state = FaultState(faults)
        self.app = create_app(
            self.store, network=network, faults=self.fault_state, test_hooks=test_hooks, go_down=self.go_down_for,
            states=self.aggregator,
        )
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._lifecycle = threading.Lock()

    @property
    def url(self) -> str:
        """Base URL of the node (the API lives under ``/ceramic``)."""
        return f"http://{self.host}:{self.port}"

    @property
    def is_up(self) -> bool:
        return self._server is not None

    def set_faults(self, **settings: object) -> Faults:
        """Change fault settings at runtime, e.g. ``node.set_faults(error_rate=0.5, seed=7)``."""
        return self.fault_state.update(settings)

    def _bind(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Headers and body are two writes: without NODELAY each response waits ~40 ms for the
        # client's delayed ACK. Accepted sockets inherit the option on Linux.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((self.host, self.port))
        sock.listen(128)
        self.port = sock.getsockname()[1]  # port 0 -> the free port the kernel chose; kept across restarts
        return sock

    def start(self) -> DevNode:
        with self._lifecycle:
            if self._server is not None:
                return self
            sock = self._bind()
            # loop="auto": uvloop when installed (it comes with uvicorn[standard]), else asyncio.
            config = uvicorn.Config(
                self.app, log_level="warning", lifespan="off", loop="auto", timeout_graceful_shutdown=2,
                proxy_headers=False,  # loopback only: no proxy to trust
            )
            server = uvicorn.Server(config)
            thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"devnode:{self.port}", daemon=True)
            thread.start()
            deadline = time.monotonic() + START_TIMEOUT
            while not server.started:
                if not thread.is_alive() or time.monotonic() > deadline:
                    server.should_exit = True
                    sock.close()
                    raise RuntimeError(f"devnode did not start on {self.host}:{self.port}")
                time.sleep(0.01)
            self._server, self._thread = server, thread
            return self

    def stop(self) -> None:
        """Stop serving (the store stays open, so ``start()`` resumes with the same events)."""
        with self._lifecycle:
            server, thread = self._server, self._thread
            self._server = self._thread = None
        if server is not None and thread is not None:
            server.should_exit = True
            thread.join(timeout=10)

    def go_down_for(self, seconds: float) -> None:
        """Refuse connections for ``seconds`` (returns at once; used by ``POST /_devnode/faults``)."""

        def bounce() -> None:
            time.sleep(0.05)  # let the control request that asked for it finish
            self.stop()
            time.sleep(seconds)
            self.start()

        threading.Thread(target=bounce, name="devnode-down", daemon=True).start()

    def close(self) -> None:
        self.stop()
        self.store.close()


@contextmanager
def running_devnode(
    data_dir: str | Path | None = None,
    *,
    faults: Faults | None = None,
    network: str = "inmemory",
    host: str = "127.0.0.1",
    port: int = 0,
    test_hooks: bool = True,
    cache_streams: int = DEFAULT_CACHE_STREAMS,
) -> Iterator[DevNode]:
    """A started devnode on a free loopback port; stopped and closed on exit."""
    node = DevNode(
        host=host, port=port, data_dir=data_dir, network=network, faults=faults, test_hooks=test_hooks,
        cache_streams=cache_streams,
    )
    try:
        yield node.start()
    finally:
        node.close()
