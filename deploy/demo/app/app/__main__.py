"""Container entry point: ``python -m app``.

On SIGTERM the service first stops being ready (the endpoint controller takes the pod
out of the Service and kube-proxy stops sending it connections), keeps serving for
``DRAIN_SECONDS``, then finishes in-flight requests and exits 0. Without the drain, a
rolling update would drop the requests that still arrive in the meantime.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from types import FrameType

import uvicorn

from app.main import create_app

log = logging.getLogger("fastapi-demo")


class DrainingServer(uvicorn.Server):
    """uvicorn, except that SIGTERM drains first instead of closing the socket at once."""

    def __init__(self, config: uvicorn.Config, drain_seconds: float) -> None:
        super().__init__(config)
        self.drain_seconds = drain_seconds
        self.drain_until: float | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if sig == signal.SIGTERM and self.drain_until is None:
            log.info("SIGTERM: not ready any more, draining for %.1f s", self.drain_seconds)
            self.config.app.state.demo.draining = True
            self.drain_until = time.monotonic() + self.drain_seconds
            return
        # A second signal (or Ctrl-C) stops at once. Not recorded as captured, so the
        # process exits 0 instead of re-raising the signal after shutdown.
        self.should_exit = True

    async def on_tick(self, counter: int) -> bool:
        if self.drain_until is not None and time.monotonic() >= self.drain_until:
            return True
        return await super().on_tick(counter)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    config = uvicorn.Config(
        create_app(),
        host="0.0.0.0",
        port=int(os.environ.get("PORT", "8000")),
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=10,
    )
    DrainingServer(config, float(os.environ.get("DRAIN_SECONDS", "5"))).run()


if __name__ == "__main__":
    main()
