"""The alarm clock: escalation of alarms nobody acknowledged within their priority's time, auto-close of alarms
whose incident ended long ago (by the rule that says so), and forgetting resolved alarms as old as the events'
retention. A thread in every API process; the one holding a PostgreSQL advisory lock on its own connection runs
the clock (another takes over within seconds when it dies), as the outbound sender does, so N replicas escalate
once. Escalation is an UPDATE whose trigger announces it (``vigil_alarms``, op ``escalated``): every replica's
live hub tells the consoles of the site (the supervisors' banner and sound) and the outbound sender the
webhooks and MQTT, whichever replica holds the clock.

Timing: the thread sleeps until the next known deadline (at most ``alarms.escalation_check_s``, so an alarm
raised meanwhile is seen), so an escalation lands within the time of one query of its deadline.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import psycopg
from psycopg.rows import dict_row

from core.settings import AlarmSettings
from ops_api import audit
from store import alarm_steps, alarm_watch

log = logging.getLogger("vigil.api.alarms")
CLOCK_LOCK = 0x76_69_67_02  # "vig" + 2: the advisory lock whose holder runs the alarm clock
FOLLOWER_RETRY_S = 2.0
FORGET_EVERY_S = 3600.0
SYSTEM = "vigil"  # the user name of the clock's own steps in the audit log


def rule_name(row: dict[str, Any]) -> str:
    """How the audit log names the rule that closed an alarm."""
    where = ", ".join(f"{what} {row[key]}" for what, key in (("site", "rule_site_id"), ("camera", "rule_camera_id"),
                                                             ("zone", "rule_zone_id")) if row[key] is not None)
    return (f"alarm rule #{row['rule_id']} ({row['rule_event_type']}, {where or 'every site'}): close "
            f"{row['rule_auto_close_s']} s after the incident ended")


class AlarmWatch:
    """Started and stopped by the app's lifespan."""

    def __init__(self, database_url: str, settings: AlarmSettings, keep_days: int) -> None:
        self.database_url = database_url
        self.settings = settings
        self.keep_days = keep_days
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: psycopg.Connection | None = None
        self._swept = 0.0
        self._forgot = 0.0
        self.is_leader = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="vigil-alarm-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    wait = self.tick()
                except psycopg.Error as exc:
                    log.warning("alarm clock: database error (%s); retrying", exc)
                    self._drop()
                    wait = FOLLOWER_RETRY_S
                except Exception:  # the clock must keep going whatever one alarm does
                    log.exception("alarm clock: failed")
                    wait = FOLLOWER_RETRY_S
                self._stop.wait(wait)
        finally:
            self._drop()

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = None
        self.is_leader = False

    def tick(self) -> float:
        """One turn of the clock; how long to sleep before the next."""
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.database_url, autocommit=True, row_factory=dict_row, connect_timeout=5,
                                         application_name="vigil-alarm-clock")
        conn = self._conn
        self.is_leader = alarm_watch.try_lock(conn, CLOCK_LOCK)
        if not self.is_leader:
            return FOLLOWER_RETRY_S
        ack_s = self.settings.ack_s
        with conn.transaction():
            for row in alarm_watch.escalate_due(conn, ack_s):
                self._escalated(conn, row, ack_s[int(row["priority"]) - 1])
        now = time.monotonic()
        if now - self._swept >= self.settings.auto_close_check_s:
            self._swept = now
            with conn.transaction():
                for row in alarm_watch.auto_close_due(conn):
                    self._auto_close(conn, row)
        if now - self._forgot >= FORGET_EVERY_S:
            self._forgot = now
            alarm_watch.forget_resolved(conn, self.keep_days)
        wait = alarm_watch.seconds_to_next_deadline(conn, ack_s)
        ceiling = min(self.settings.escalation_check_s, self.settings.auto_close_check_s)
        return ceiling if wait is None else min(ceiling, max(0.02, wait))

    @staticmethod
    def _escalated(conn: psycopg.Connection, row: dict[str, Any], ack_s: float) -> None:
        notified = alarm_watch.supervisors_of(conn, row["site_id"])
        alarm_steps.add_note(conn, row["id"], None, "escalate", ", ".join(notified) or None)
        audit.record(conn, None, "alarm.escalate", "alarm", row["id"],
                     before={"site_id": row["site_id"], "status": row["status"], "escalated_at": None},
                     after={"site_id": row["site_id"], "status": row["status"], "priority": row["priority"],
                            "escalated_at": row["escalated_at"], "raised_at": row["raised_at"], "ack_s": ack_s,
                            "notified": notified}, username=SYSTEM)
        log.info("alarm %s (P%s, %s) escalated to %s", row["id"], row["priority"], row["type"],
                 ", ".join(notified) or "no supervisor")

    @staticmethod
    def _auto_close(conn: psycopg.Connection, row: dict[str, Any]) -> None:
        alarm_steps.set_status(conn, row, "resolved", row["assignee_id"], auto_closed=True)
        alarm_steps.add_note(conn, row["id"], None, "auto_close", f"#{row['rule_id']}")
        rule = {"id": row["rule_id"], "event_type": row["rule_event_type"], "site_id": row["rule_site_id"],
                "camera_id": row["rule_camera_id"], "zone_id": row["rule_zone_id"],
                "auto_close_s": row["rule_auto_close_s"]}
        audit.record(conn, None, "alarm.auto_close", "alarm", row["id"],
                     before={"site_id": row["site_id"], "status": row["status"]},
                     after={"site_id": row["site_id"], "status": "resolved", "rule": rule,
                            "rule_name": rule_name(row)}, username=SYSTEM)
