"""Operations: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from ops_api.deps import ApiContext

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process answers (no dependency is checked)."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "not ready; the body says what is missing"}})
async def readyz(request: Request) -> JSONResponse:
    """Ready to serve: the database answers and this process's workers (live events, outbound) run.
    Also reports how many vision workers hold camera leases (informational)."""
    ctx: ApiContext = request.app.state.vigil

    def probe() -> dict:
        with ctx.pool.connection(timeout=2) as conn:
            row = conn.execute("SELECT count(DISTINCT lease_owner) AS workers FROM cameras"
                               " WHERE lease_expires > now()").fetchone()
            return {"ok": True, "vision_workers": row["workers"]}

    checks: dict[str, object] = {}
    try:
        result = await run_in_threadpool(probe)
        checks["database"] = "ok"
        checks["vision_workers"] = result["vision_workers"]
    except Exception as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
    if ctx.hub is not None:
        checks["live_events"] = "ok" if ctx.hub.alive else "not listening"
    if ctx.outbound is not None:
        checks["outbound"] = "ok" if ctx.outbound.alive else "stopped"
    ready = all(v == "ok" for k, v in checks.items() if k != "vision_workers")
    return JSONResponse({"status": "ready" if ready else "not ready", "checks": checks},
                        status_code=200 if ready else 503)


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(request: Request) -> PlainTextResponse:
    """Prometheus text format."""
    registry = request.app.state.metrics.registry
    body = await run_in_threadpool(generate_latest, registry)
    return PlainTextResponse(body, media_type=CONTENT_TYPE_LATEST)
