"""Shift handovers (giao ca): the summary of a shift generated from the alarms and cameras of the operator's
sites (alarms raised, handled, still open with their state and last note, cameras offline), kept as it was
when the shift was handed over, with the remarks, the recipient and the recipient's acknowledgement.

A handover is visible to its sender and its recipient, and to users whose sites cover all of its sites
(a handover of every site: to users of every site)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from store.errors import NotFound
from store.queries._common import one, rows

LIST_MAX = 500  # rows kept per section of a summary (the counts are exact)
HANDOVER_COLUMNS = ("id, site_ids, from_user_id, from_username, to_user_id, to_username, shift_start, shift_end,"
                    " summary, remarks, created_at, acknowledged_at, ack_note")
_IN_SCOPE = "(%(scope)s::bigint[] IS NULL OR a.site_id = ANY(%(scope)s::bigint[]))"
_VISIBLE = ("(from_user_id = %(me)s::bigint OR to_user_id = %(me)s::bigint OR %(scope)s::bigint[] IS NULL"
            " OR (site_ids IS NOT NULL AND cardinality(site_ids) > 0 AND site_ids <@ %(scope)s::bigint[]))")
_ALARM = ("a.id, a.type, a.priority, a.status, a.event_count, a.site_id, s.name AS site, a.camera_id,"
          " c.name AS camera, a.raised_at, a.escalated_at, a.resolved_at, a.auto_closed")
_NAMES = " LEFT JOIN sites s ON s.id = a.site_id LEFT JOIN cameras c ON c.id = a.camera_id"
OFFLINE_STATES = ("offline", "tamper", "reconnecting")


def _iso(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}


def shift_summary(conn: psycopg.Connection, scope: Sequence[int] | None, since: datetime,
                  until: datetime) -> dict[str, Any]:
    """What happened in [since, until) in ``scope``'s sites and what is left: counts, and the alarms raised,
    handled and still open (state, assignee, last note), and the cameras offline now (JSON-safe)."""
    params = {"scope": list(scope) if scope is not None else None, "since": since, "until": until,
              "limit": LIST_MAX}
    counts = one(conn, f"SELECT count(*) FILTER (WHERE a.raised_at >= %(since)s AND a.raised_at < %(until)s) AS raised,"
                       f" count(*) FILTER (WHERE a.resolved_at >= %(since)s AND a.resolved_at < %(until)s) AS handled,"
                       f" count(*) FILTER (WHERE a.status <> 'resolved') AS open,"
                       f" count(*) FILTER (WHERE a.escalated_at >= %(since)s AND a.escalated_at < %(until)s)"
                       f" AS escalated FROM alarms a WHERE {_IN_SCOPE}", params)
    raised = rows(conn, f"SELECT {_ALARM} FROM alarms a{_NAMES} WHERE {_IN_SCOPE} AND a.raised_at >= %(since)s"
                        f" AND a.raised_at < %(until)s ORDER BY a.priority, a.raised_at DESC LIMIT %(limit)s", params)
    handled = rows(conn, f"SELECT {_ALARM}, r.username AS resolved_by, r.text AS resolution FROM alarms a{_NAMES}"
                         " LEFT JOIN LATERAL (SELECT u.username, n.text FROM alarm_notes n LEFT JOIN users u"
                         "   ON u.id = n.user_id WHERE n.alarm_id = a.id AND n.action IN ('resolve', 'auto_close')"
                         "   ORDER BY n.time DESC LIMIT 1) r ON true"
                         f" WHERE {_IN_SCOPE} AND a.resolved_at >= %(since)s AND a.resolved_at < %(until)s"
                         " ORDER BY a.resolved_at DESC LIMIT %(limit)s", params)
    still_open = rows(conn, f"SELECT {_ALARM}, u.username AS assignee, n.text AS last_note, n.time AS last_note_time"
                            f" FROM alarms a{_NAMES} LEFT JOIN users u ON u.id = a.assignee_id"
                            " LEFT JOIN LATERAL (SELECT text, time FROM alarm_notes WHERE alarm_id = a.id"
                            "   AND text IS NOT NULL ORDER BY time DESC, id DESC LIMIT 1) n ON true"
                            f" WHERE {_IN_SCOPE} AND a.status <> 'resolved'"
                            " ORDER BY a.urgent DESC, a.priority, a.last_time DESC LIMIT %(limit)s", params)
    offline = rows(conn, "SELECT c.id, c.name, c.site_id, s.name AS site, c.state, c.state_since FROM cameras c"
                         " JOIN sites s ON s.id = c.site_id WHERE c.enabled AND c.state = ANY(%(states)s)"
                         " AND (%(scope)s::bigint[] IS NULL OR c.site_id = ANY(%(scope)s::bigint[]))"
                         " ORDER BY s.name, c.name LIMIT %(limit)s", {**params, "states": list(OFFLINE_STATES)})
    return {"since": since.isoformat(), "until": until.isoformat(),
            "counts": {**{k: int(v) for k, v in (counts or {}).items()}, "cameras_offline": len(offline)},
            "raised": [_iso(r) for r in raised], "handled": [_iso(r) for r in handled],
            "open": [_iso(r) for r in still_open], "cameras_offline": [_iso(r) for r in offline]}


def last_shift_end(conn: psycopg.Connection, user_id: int) -> datetime | None:
    """When the user's shift began: the newest handover to it (its shift took over then), or from it."""
    found = one(conn, "SELECT max(t) AS t FROM (SELECT created_at AS t FROM handovers"
                      " WHERE to_user_id = %(u)s::bigint UNION ALL SELECT shift_end FROM handovers"
                      " WHERE from_user_id = %(u)s::bigint) x", {"u": user_id})
    return None if found is None else found["t"]


def insert_handover(conn: psycopg.Connection, fields: dict[str, Any]) -> dict[str, Any]:
    values = {**fields, "summary": Jsonb(fields["summary"])}
    return one(conn, f"INSERT INTO handovers ({', '.join(values)}) VALUES ({', '.join(['%s'] * len(values))})"
                     f" RETURNING {HANDOVER_COLUMNS}", list(values.values()))  # type: ignore[return-value]


def get_handover(conn: psycopg.Connection, handover_id: int, user_id: int, scope: Sequence[int] | None, *,
                 for_update: bool = False) -> dict[str, Any]:
    """The handover if the user may see it, else NotFound."""
    found = one(conn, f"SELECT {HANDOVER_COLUMNS} FROM handovers WHERE id = %(id)s::bigint AND {_VISIBLE}"
                      f"{' FOR UPDATE' if for_update else ''}",
                {"id": handover_id, "me": user_id, "scope": list(scope) if scope is not None else None})
    if found is None:
        raise NotFound("handover")
    return found


def list_handovers(conn: psycopg.Connection, user_id: int, scope: Sequence[int] | None, *, text: str | None = None,
                   since: datetime | None = None, until: datetime | None = None, pending_for_me: bool = False,
                   before_id: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Newest first: those the user may see, whose remarks, names or summary mention ``text`` (any case), whose
    shift ended in [since, until), awaiting the user's acknowledgement when ``pending_for_me``."""
    clauses = [_VISIBLE]
    if text:
        clauses.append("(remarks ILIKE %(like)s OR from_username ILIKE %(like)s OR to_username ILIKE %(like)s"
                       " OR ack_note ILIKE %(like)s OR summary::text ILIKE %(like)s)")
    if since is not None:
        clauses.append("shift_end >= %(since)s")
    if until is not None:
        clauses.append("shift_end < %(until)s")
    if pending_for_me:
        clauses.append("to_user_id = %(me)s::bigint AND acknowledged_at IS NULL")
    if before_id is not None:
        clauses.append("id < %(before)s::bigint")
    like = None if not text else "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return rows(conn, f"SELECT {HANDOVER_COLUMNS} FROM handovers WHERE {' AND '.join(clauses)}"
                      " ORDER BY id DESC LIMIT %(limit)s",
                {"me": user_id, "scope": list(scope) if scope is not None else None, "like": like, "since": since,
                 "until": until, "before": before_id, "limit": limit})


def acknowledge(conn: psycopg.Connection, handover_id: int, note: str | None) -> dict[str, Any]:
    return one(conn, f"UPDATE handovers SET acknowledged_at = now(), ack_note = %s WHERE id = %s::bigint"
                     f" RETURNING {HANDOVER_COLUMNS}", (note, handover_id))  # type: ignore[return-value]
