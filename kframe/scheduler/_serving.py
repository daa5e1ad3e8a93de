"""The scheduler's own HTTP endpoint: ``/metrics``, ``/healthz``, ``/livez`` and ``/readyz``.

kube-scheduler serves these on its secure port, 10259; kframe serves them in plain HTTP on the
same port by default (``kframe scheduler --metrics-port``, ``kframe up --scheduler-port``), so
a Prometheus scrape config for kube-scheduler needs only ``scheme: http``.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from ._metrics import SchedulerMetrics

__all__ = ["METRICS_PORT", "MetricsServer"]

# kube-scheduler's secure port (pkg/cluster/ports: KubeSchedulerPort).
METRICS_PORT = 10259

# The Prometheus text exposition format's content type.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class MetricsServer:
    """Serves one scheduler's metrics and health until stopped."""

    def __init__(self, metrics: SchedulerMetrics, ready: Callable[[], bool] = lambda: True):
        self._metrics = metrics
        self._ready = ready
        self._runner: web.AppRunner | None = None
        self.address = ""
        self.port = 0

    @property
    def url(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"http://{host}:{self.port}"

    async def start(self, address: str, port: int) -> None:
        """Listen on ``address:port`` (0: any free port); OSError when the port is taken."""
        app = web.Application()
        app.router.add_get("/metrics", self._render)
        app.router.add_get("/healthz", self._ok)
        app.router.add_get("/livez", self._ok)
        app.router.add_get("/readyz", self._readyz)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, address, port, reuse_address=True)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        server = site._server  # aiohttp keeps the asyncio server private
        sockets = getattr(server, "sockets", None) or ()
        self.address = address
        self.port = sockets[0].getsockname()[1] if sockets else port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _render(self, _: web.Request) -> web.Response:
        return web.Response(
            body=self._metrics.render().encode(), headers={"Content-Type": CONTENT_TYPE}
        )

    async def _ok(self, _: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def _readyz(self, _: web.Request) -> web.Response:
        if self._ready():
            return web.Response(text="ok")
        # As kube-scheduler's readyz before its informers synced.
        return web.Response(status=500, text="[-]sched-handler-sync failed: not synced yet\n")
