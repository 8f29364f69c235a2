"""Start-up, readiness and graceful shutdown state of one service process.

* ``/health`` (liveness) only asks "is this process able to answer?": it never calls a
  downstream dependency, so a database outage can not make Kubernetes restart every pod.
* ``/ready`` (readiness) runs the registered readiness checks (database, backend, files, ...)
  and answers 503 while start-up is not finished or once shutdown has begun.
* ``/startup`` answers 200 once start-up (including work a feature holds it for) is done.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("app.lifecycle")

# A check returns a short detail string (or None) when healthy and raises when not.
Check = Callable[[], Awaitable[str | None]]
Hook = Callable[[], Awaitable[None]]


@dataclass
class CheckResult:
    ok: bool
    detail: str


@dataclass
class Lifecycle:
    hooks_done: bool = False
    shutting_down: bool = False
    shutdown_reason: str | None = None
    _startup_holds: set[str] = field(default_factory=set)
    _readiness_checks: dict[str, Check] = field(default_factory=dict)
    _liveness_checks: dict[str, Check] = field(default_factory=dict)
    _startup_hooks: list[Hook] = field(default_factory=list)
    _shutdown_hooks: list[Hook] = field(default_factory=list)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    _health_fields: dict[str, str] = field(default_factory=dict)

    # --- registration (called by features at app creation) ---------------------------
    def add_readiness_check(self, name: str, check: Check) -> None:
        self._readiness_checks[name] = check

    def report_in_health(self, **fields: str) -> None:
        """Fixed facts every /health answer shows next to its status (e.g. the version)."""
        self._health_fields.update(fields)

    def add_liveness_check(self, name: str, check: Check) -> None:
        """Only for in-process state (a deadlock detector, a simulated failure); never I/O."""
        self._liveness_checks[name] = check

    def on_startup(self, hook: Hook) -> None:
        self._startup_hooks.append(hook)

    def on_shutdown(self, hook: Hook) -> None:
        self._shutdown_hooks.append(hook)

    def hold_startup(self, reason: str) -> None:
        """Keep /startup and /ready at 503 until ``release_startup(reason)`` is called."""
        self._startup_holds.add(reason)

    def release_startup(self, reason: str) -> None:
        self._startup_holds.discard(reason)
        if self.started:
            log.info("startup complete")

    def spawn(self, coro: Awaitable[Any], name: str) -> asyncio.Task[Any]:
        """Run a background task that is cancelled on shutdown."""
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # --- state -------------------------------------------------------------------------
    @property
    def started(self) -> bool:
        return self.hooks_done and not self._startup_holds

    @property
    def startup_pending(self) -> list[str]:
        return sorted(self._startup_holds)

    def begin_shutdown(self, reason: str) -> None:
        if not self.shutting_down:
            self.shutting_down = True
            self.shutdown_reason = reason
            log.info("shutdown started; readiness is now false", extra={"reason": reason})

    async def run_startup(self) -> None:
        for hook in self._startup_hooks:
            await hook()
        self.hooks_done = True
        if self.started:
            log.info("startup complete")

    async def run_shutdown(self) -> None:
        self.begin_shutdown(self.shutdown_reason or "lifespan shutdown")
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for hook in reversed(self._shutdown_hooks):
            try:
                await hook()
            except Exception:  # keep shutting down the rest
                log.exception("shutdown hook failed")

    async def _run_checks(self, checks: dict[str, Check], timeout: float) -> dict[str, CheckResult]:
        async def run(check: Check) -> CheckResult:
            try:
                detail = await asyncio.wait_for(check(), timeout=timeout)
                return CheckResult(ok=True, detail=detail or "ok")
            except asyncio.TimeoutError:
                return CheckResult(ok=False, detail=f"timed out after {timeout:g}s")
            except Exception as exc:  # a failing check is data, not a crash
                return CheckResult(ok=False, detail=f"{type(exc).__name__}: {exc}"[:300])

        names = list(checks)
        results = await asyncio.gather(*(run(checks[n]) for n in names))
        return dict(zip(names, results))

    async def readiness(self, timeout: float) -> tuple[bool, dict[str, Any]]:
        if self.shutting_down:
            return False, {"status": "shutting_down", "reason": self.shutdown_reason}
        if not self.started:
            return False, {"status": "starting", "pending": self.startup_pending}
        results = await self._run_checks(self._readiness_checks, timeout)
        ok = all(r.ok for r in results.values())
        return ok, {
            "status": "ready" if ok else "not_ready",
            "checks": {name: {"ok": r.ok, "detail": r.detail} for name, r in results.items()},
        }

    async def liveness(self, timeout: float) -> tuple[bool, dict[str, Any]]:
        results = await self._run_checks(self._liveness_checks, timeout)
        ok = all(r.ok for r in results.values())
        body: dict[str, Any] = {"status": "ok" if ok else "unhealthy", **self._health_fields}
        if results:
            body["checks"] = {name: {"ok": r.ok, "detail": r.detail} for name, r in results.items()}
        return ok, body


def install_signal_handlers(lifecycle: Lifecycle, drain_seconds: float) -> bool:
    """Chain onto uvicorn's SIGTERM/SIGINT handlers: mark not-ready first, stop later.

    On SIGTERM readiness turns false at once, the process keeps serving for
    ``drain_seconds`` (so endpoints and load balancers drop the pod first), then uvicorn's
    own handler starts its graceful shutdown. A second signal stops at once.
    Only possible in the main thread (not under TestClient); returns whether installed.
    """
    if threading.current_thread() is not threading.main_thread():
        return False
    loop = asyncio.get_running_loop()
    installed = False
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(sig)
        if not callable(previous):
            continue

        def handler(signum: int, frame: Any, previous: Callable[..., Any] = previous) -> None:
            if lifecycle.shutting_down:
                previous(signum, frame)
                return
            lifecycle.begin_shutdown(signal.Signals(signum).name)
            delay = drain_seconds if signum == signal.SIGTERM else 0.0
            # call_soon_threadsafe is the only loop call that is safe from a signal handler.
            loop.call_soon_threadsafe(loop.call_later, delay, previous, signum, frame)

        signal.signal(sig, handler)
        installed = True
    return installed
