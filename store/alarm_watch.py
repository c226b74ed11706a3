"""What the clock does to alarms (``ops_api.alarm_watch`` runs it on one API replica): escalate those nobody
acknowledged within their priority's time, close those whose incident ended long ago by the rule that says so,
and forget resolved alarms older than the events they came from."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from store.accounts import SCOPE_SITES
from store.alarms import ALARM_COLUMNS
from store.queries._common import one, rows

PRIORITIES = (1, 2, 3, 4, 5)


def _due(ack_s: Sequence[float]) -> tuple[str, dict[str, float]]:
    """The condition "unacknowledged past its priority's time", one clause per priority so the
    (priority, raised_at) index answers each."""
    if len(ack_s) != len(PRIORITIES):
        raise ValueError("one acknowledgement time per priority (1..5)")
    clauses = " OR ".join(f"(priority = {p} AND raised_at <= now() - make_interval(secs => %(ack{p})s::float8))"
                          for p in PRIORITIES)
    params = {f"ack{p}": float(s) for p, s in zip(PRIORITIES, ack_s, strict=True)}
    return f"status = 'new' AND escalated_at IS NULL AND ({clauses})", params


def escalate_due(conn: psycopg.Connection, ack_s: Sequence[float], limit: int = 1000) -> list[dict[str, Any]]:
    """Mark escalated (now) every alarm still new past ``ack_s[priority - 1]`` seconds after it was raised, at
    most ``limit`` at once; the alarms as they are after it."""
    condition, params = _due(ack_s)
    return rows(conn, f"UPDATE alarms SET escalated_at = now(), updated_at = now() WHERE id IN"
                      f" (SELECT id FROM alarms WHERE {condition} ORDER BY raised_at LIMIT %(limit)s"
                      f" FOR UPDATE SKIP LOCKED) RETURNING {ALARM_COLUMNS}", {**params, "limit": limit})


def seconds_to_next_deadline(conn: psycopg.Connection, ack_s: Sequence[float]) -> float | None:
    """Seconds until the next unacknowledged alarm passes its time (negative: one already has); None when no
    alarm waits for acknowledgement."""
    found = one(conn, "SELECT extract(epoch FROM min(raised_at + make_interval(secs => (%s::float8[])[priority]))"
                      " - clock_timestamp()) AS wait FROM alarms WHERE status = 'new' AND escalated_at IS NULL",
                ([float(s) for s in ack_s],))
    return None if found is None or found["wait"] is None else float(found["wait"])


def supervisors_of(conn: psycopg.Connection, site_id: int | None) -> list[str]:
    """The user names of the active supervisors who see this site (theirs, their province's or every site)."""
    found = rows(conn, "SELECT username FROM users WHERE active AND supervisor AND role IN ('operator', 'admin')"
                       f" AND (site_ids IS NULL OR %s::bigint = ANY({SCOPE_SITES.format(u='users')}))"
                       " ORDER BY username", (site_id,))
    return [r["username"] for r in found]


def auto_close_due(conn: psycopg.Connection, limit: int = 200) -> list[dict[str, Any]]:
    """Open alarms whose rule closes them by itself and whose every event ended at least the rule's
    ``auto_close_s`` ago, locked for the caller's transaction, with the rule that closes each."""
    return rows(conn, f"SELECT {', '.join('a.' + c.strip() for c in ALARM_COLUMNS.split(','))},"
                      " r.event_type AS rule_event_type, r.site_id AS rule_site_id, r.camera_id AS rule_camera_id,"
                      " r.zone_id AS rule_zone_id, r.auto_close_s AS rule_auto_close_s"
                      " FROM alarms a JOIN alarm_rules r ON r.id = a.rule_id"
                      " WHERE a.status <> 'resolved' AND r.auto_close_s IS NOT NULL"
                      " AND a.last_time < now() - make_interval(secs => r.auto_close_s)"
                      " AND NOT EXISTS (SELECT 1 FROM alarm_events ae JOIN events e ON e.id = ae.event_id"
                      "   AND e.time = ae.event_time WHERE ae.alarm_id = a.id AND (e.end_time IS NULL"
                      "   OR e.end_time > now() - make_interval(secs => r.auto_close_s)))"
                      " ORDER BY a.id LIMIT %s FOR UPDATE OF a SKIP LOCKED", (limit,))


def forget_resolved(conn: psycopg.Connection, keep_days: int) -> int:
    """Delete resolved alarms whose newest event is older than ``keep_days`` (the events' retention); how many."""
    return conn.execute("DELETE FROM alarms WHERE status = 'resolved' AND last_time < now() - make_interval("
                        "days => %s)", (keep_days,)).rowcount


def try_lock(conn: psycopg.Connection, lock_id: int) -> bool:
    """Take (or hold) the session-level advisory lock whose holder alone runs the alarm clock."""
    found = one(conn, "SELECT pg_try_advisory_lock(%s) AS ok", (lock_id,))
    return bool(found and found["ok"])
