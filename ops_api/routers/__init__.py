"""One router per resource; ``ROUTERS`` is what ``create_app`` includes, in this order."""

from ops_api.routers import auth, events, live, ops, users

ROUTERS = [ops.router, auth.router, users.router, live.router, events.router]
