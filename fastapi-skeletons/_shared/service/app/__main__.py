"""Container entry point: ``python -m app``.

Starts uvicorn with the settings from the environment, JSON logs and a bounded graceful
shutdown (SIGTERM -> /ready 503 for SHUTDOWN_DRAIN_SECONDS -> finish in-flight requests).
"""

from __future__ import annotations

import uvicorn

from app.core.logging import configure_logging
from app.settings import get_settings


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level, settings.app_name)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=settings.graceful_timeout_seconds,
    )


if __name__ == "__main__":
    main()
