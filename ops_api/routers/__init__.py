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
    handovers,
    integrations,
    live,
    maps,
    onboarding,
    ops,
    reports,
    sites,
    users,
    zones,
)

ROUTERS = [ops.router, auth.router, users.router, sites.router, reports.router, onboarding.router, cameras.router,
           zones.router, counters.router, live.router, events.router, exports.router, integrations.router,
           alarms.router, alarm_config.router, handovers.router, maps.router]
