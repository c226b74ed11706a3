"""Operations: liveness and readiness (open to all), Prometheus metrics (an admin or the metrics token)."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from ops_api.deps import ApiContext, context, optional_user, unauthorized
from ops_api.errors import ApiProblem
from store.queries.operations import vision_workers

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
            return {"ok": True, "vision_workers": vision_workers(conn)}

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


def metrics_reader(request: Request) -> None:
    """Let through a bearer equal to ``api.metrics_token`` (no database needed: scrapes go on while it is
    down) or a signed-in admin of every site (the figures cover every site); else 401 or 403."""
    ctx = context(request)
    token = ctx.settings.api.metrics_token
    scheme, _, sent = request.headers.get("authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(), token.encode()):
        return
    with ctx.pool.connection() as conn:
        user = optional_user(request, conn)
    if user is None:
        raise unauthorized("sign in as an admin, or send 'Authorization: Bearer <api.metrics_token>'",
                           "not_signed_in")
    if user.must_change_password:
        raise ApiProblem(403, "change your password first (POST /api/auth/password)", code="must_change_password")
    user.require("metrics.read")
    if user.site_ids is not None:
        raise ApiProblem(403, "metrics cover every site: only an admin of every site may read them",
                         code="role_not_permitted", params={"role": str(user.role), "permission": "metrics.read"})


@router.get("/metrics", response_class=PlainTextResponse, dependencies=[Depends(metrics_reader)],
            responses={401: {}, 403: {}})
async def metrics(request: Request) -> PlainTextResponse:
    """Prometheus text format. Send ``Authorization: Bearer <api.metrics_token>`` or sign in as an admin."""
    registry = request.app.state.metrics.registry
    body = await run_in_threadpool(generate_latest, registry)
    return PlainTextResponse(body, media_type=CONTENT_TYPE_LATEST)
