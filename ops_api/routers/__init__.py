"""One router per resource; ``ROUTERS`` is what ``create_app`` includes, in this order (fixed paths such as
``/api/counters/live`` before ``/api/counters/{counter_id}``)."""

from ops_api.routers import (
    alarm_config,
    alarms,
    auth,
    cameras,
    counters,
    events,
    exports,
    hall_screen,
    handovers,
    integrations,
    live,
    maps,
    officers,
    onboarding,
    ops,
    picture_feed,
    provinces,
    recording_exports,
    recordings,
    reports,
    roster,
    sites,
    ticket_imports,
    users,
    zones,
)

ROUTERS = [ops.router, auth.router, users.router, sites.router, reports.router, onboarding.router, cameras.router,
           zones.router, counters.router, live.router, events.router, exports.router, integrations.router,
           recording_exports.router, recordings.router, officers.router, roster.router, provinces.router,
           hall_screen.router, ticket_imports.router, alarms.router, alarm_config.router, handovers.router,
           maps.router, picture_feed.router]
