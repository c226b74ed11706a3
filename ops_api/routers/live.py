"""Live events: a WebSocket (``/api/events/live``) and Server-Sent Events (``/api/events/stream``).

Both send the events of the user's sites as they are inserted or updated, fed by PostgreSQL
LISTEN/NOTIFY, so any replica serves any console. Resume: ``?after=<seq>`` (or SSE's ``Last-Event-ID``)
first replays the events inserted after that seq (up to 1000), then goes live. Messages:
``{"op": "insert"|"update", "event": {...}}``; a ``{"op": "ping"}`` every 15 s when idle.
A browser authenticates with its session cookie (the Origin must be this host), a script with
``Authorization: Bearer`` or ``?token=``. With ``?alarms=true`` the stream also carries the alarms of the user's
sites as they are raised, change and are escalated (``{"op": "insert"|"update"|"escalated", "alarm": {...}}``;
SSE ``event: alarm``); ``?events=false`` leaves the events out (a supervisor's escalation banner).

A stream ends, with ``{"op": "end", "code": "session_expired"|"access_changed"}`` (SSE ``event: end``; the
WebSocket then closes with 4401 or 4409), once its user is signed out, deactivated, or given another role or
other sites (``ops_api.stream_access``, checked every ``api.stream_recheck_s``).

A stream holds no database connection: the user is looked up on one that goes back to the pool before
streaming starts, the replay takes one for its query, and live messages come from the process's one
LISTEN connection (``ops_api.live.LiveHub``) through an in-memory queue. What a stream costs is that queue,
an asyncio task, and a pooled connection for a moment every ``api.stream_recheck_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from ops_api.deps import SESSION_COOKIE, ApiContext, authenticate, require_briefly
from ops_api.errors import ApiProblem
from ops_api.roles import Principal
from ops_api.schemas import alarm_json, event_json
from ops_api.stream_access import StreamAccess
from store.queries.events import events_after

router = APIRouter(prefix="/api/events", tags=["live"])
PING_S = 15.0
END_CODES = {"session_expired": 4401, "access_changed": 4409}  # WebSocket close codes of a stream ended
REPLAY_MAX = 1000


async def event_messages(ctx: ApiContext, access: StreamAccess, after: int | None, *, events: bool = True,
                         alarms: bool = False) -> AsyncIterator[dict[str, Any]]:
    """The replay after ``after`` then live messages for the stream's user, with pings while idle; the stream's
    slot is given back when it ends."""
    user = access.user
    try:
        if ctx.hub is None:
            raise ApiProblem(503, "live events are off in this process", code="live_events_off")
        sub = ctx.hub.subscribe(user.site_ids, events=events, alarms=alarms)
    except BaseException:
        access.close()
        raise
    ack_s = ctx.settings.alarms.ack_s
    try:
        last = 0
        if after is not None and events:
            def replay() -> list[dict[str, Any]]:
                with ctx.pool.connection() as conn:
                    return events_after(conn, after, user.scope, REPLAY_MAX)

            for row in await run_in_threadpool(replay):
                last = max(last, int(row["seq"]))
                yield {"op": "insert", "event": event_json(row), "seq": row["seq"]}
        quiet_since = time.monotonic()
        while True:
            if not await access.allowed():
                yield {"op": "end", "code": access.ended}
                return
            try:
                message = await asyncio.wait_for(sub.queue.get(), min(PING_S, access.seconds_to_check() + 0.01))
            except TimeoutError:
                if time.monotonic() - quiet_since >= PING_S:
                    quiet_since = time.monotonic()
                    yield {"op": "ping"}
                continue
            quiet_since = time.monotonic()
            if message is None:
                return  # fell behind or the server stops: the client resumes with its last seq
            row = message["row"]
            if message["kind"] == "alarm":
                yield {"op": message["op"], "alarm": alarm_json(row, ack_s)}
                continue
            if message["op"] == "insert" and int(row["seq"]) <= last:
                continue  # already sent in the replay
            yield {"op": message["op"], "event": event_json(row), "seq": row["seq"]}
    finally:
        ctx.hub.unsubscribe(sub)
        access.close()


def _ws_credentials(ws: WebSocket, token: str | None) -> tuple[str, str] | None:
    header = ws.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return "token", header[7:].strip()
    if token:
        return "token", token
    cookie = ws.cookies.get(SESSION_COOKIE)
    if cookie:
        origin = ws.headers.get("origin")
        if origin and urlsplit(origin).netloc != ws.headers.get("host"):
            return None  # a cookie sent by another site's page: cross-site WebSocket hijacking
        return "session", cookie
    return None


@router.websocket("/live")
async def live_socket(ws: WebSocket, after: Annotated[int | None, Query(ge=0)] = None,
                      token: str | None = None, events: bool = True, alarms: bool = False) -> None:
    ctx: ApiContext = ws.app.state.vigil
    found = _ws_credentials(ws, token)
    user = None
    if found is not None:
        def lookup() -> Principal | None:
            with ctx.pool.connection() as conn:
                return authenticate(conn, *found)

        user = await run_in_threadpool(lookup)
    if user is None or user.must_change_password:
        await ws.close(code=4401, reason="sign in first")
        return
    if not user.can("events.read"):
        await ws.close(code=4403, reason="your role may not read events")
        return
    try:
        access = StreamAccess(ctx, user, "events.read")
    except ApiProblem as refused:  # accepted first, so that the client reads why (a refused handshake is a 403)
        await ws.accept()
        await ws.close(code=4429, reason=refused.code)
        return
    await ws.accept()

    ended: list[str] = []

    async def pump() -> None:
        async for message in event_messages(ctx, access, after, events=events, alarms=alarms):
            await ws.send_text(json.dumps(message, separators=(",", ":")))
            if message["op"] == "end":
                ended.append(message["code"])

    async def until_closed() -> None:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            while True:
                await ws.receive_text()  # clients send nothing; this returns when they go away

    # Whichever ends first ends the other: a client that leaves stops its pump at once (no wait for a ping).
    tasks = {asyncio.create_task(pump()), asyncio.create_task(until_closed())}
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    access.close()  # the pump's generator gives it back too, unless it was left suspended at a send
    for task in done:
        if task.exception() is not None and not isinstance(task.exception(), WebSocketDisconnect | RuntimeError):
            raise task.exception()  # type: ignore[misc]
    with contextlib.suppress(RuntimeError, WebSocketDisconnect):
        if ended:  # signed out (sign in again) or the user's access changed (reconnect for the new scope)
            await ws.close(code=END_CODES[ended[0]], reason=ended[0])
        else:
            await ws.close(code=1012 if ctx.hub and not ctx.hub.alive else 1000)


@router.get("/stream", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}}})
async def live_stream(*, request: Request, after: Annotated[int | None, Query(ge=0)] = None,
                      events: Annotated[bool, Query(description="Event messages (default).")] = True,
                      alarms: Annotated[bool, Query(description="Alarm messages too.")] = False,
                      user: Annotated[Principal, Depends(require_briefly("events.read"))]) -> StreamingResponse:
    """Server-Sent Events; the browser's EventSource resumes with Last-Event-ID by itself."""
    ctx: ApiContext = request.app.state.vigil
    if ctx.hub is None:
        raise ApiProblem(503, "live events are off in this process", code="live_events_off")
    last_id = request.headers.get("last-event-id")
    if after is None and last_id and last_id.isdigit():
        after = int(last_id)
    access = StreamAccess(ctx, user, "events.read")  # 429 when the user holds too many streams

    async def body() -> AsyncIterator[bytes]:
        async for message in event_messages(ctx, access, after, events=events, alarms=alarms):
            if await request.is_disconnected():
                return
            if message["op"] == "ping":
                yield b": ping\n\n"
                continue
            if message["op"] == "end":
                yield f"event: end\ndata: {json.dumps(message, separators=(',', ':'))}\n\n".encode()
                return
            if "alarm" in message:
                yield f"event: alarm\ndata: {json.dumps(message, separators=(',', ':'))}\n\n".encode()
                continue
            data = json.dumps(message["event"], separators=(",", ":"))
            seq = f"id: {message['seq']}\n" if message["op"] == "insert" else ""
            yield f"{seq}event: {message['op']}\ndata: {data}\n\n".encode()

    return StreamingResponse(body(), media_type="text/event-stream",
                             headers={"cache-control": "no-store", "x-accel-buffering": "no"})
