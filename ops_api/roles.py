"""Who may do what: roles, permissions and site scope, enforced on the server for every request.

A permission is granted to roles (the table below is the one place that decides). A user may be scoped
to some sites (``users.site_ids``; NULL = every site): lists are filtered to the scope, a filter naming
a site outside it is 403, and an object in a site outside it is 404 (the user may not know it exists).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from ops_api.errors import NOT_FOUND as NOT_FOUND  # the 404 codes by object kind, where they were first listed
from ops_api.errors import ApiProblem, not_found


class Role(StrEnum):
    OPERATOR = "operator"
    MANAGER = "manager"
    ENGINEER = "engineer"
    ADMIN = "admin"


OPERATOR, MANAGER, ENGINEER, ADMIN = Role.OPERATOR, Role.MANAGER, Role.ENGINEER, Role.ADMIN
EVERYONE = frozenset(Role)

PERMISSIONS: dict[str, frozenset[Role]] = {
    "sites.read": EVERYONE,
    "sites.write": frozenset({ADMIN}),
    "events.read": frozenset({OPERATOR, MANAGER, ADMIN}),
    "events.workflow": frozenset({OPERATOR, ADMIN}),
    "alarms.configure": frozenset({MANAGER, ADMIN}),  # alarm rules and procedures
    "handovers.read": frozenset({OPERATOR, MANAGER, ADMIN}),
    "handovers.write": frozenset({OPERATOR, ADMIN}),
    "map.read": EVERYONE,
    "map.edit": frozenset({MANAGER, ENGINEER, ADMIN}),  # site plans, camera places, neighbours
    "cameras.read": frozenset({OPERATOR, ENGINEER, ADMIN}),
    "cameras.write": frozenset({ENGINEER, ADMIN}),
    "health.read": frozenset({OPERATOR, ENGINEER, ADMIN}),
    "counters.read": frozenset({MANAGER, ENGINEER, ADMIN}),
    "counters.write": frozenset({ENGINEER, ADMIN}),
    "counters.stats": frozenset({MANAGER, ADMIN}),
    "street.read": frozenset({OPERATOR, MANAGER, ADMIN}),
    "exports": frozenset({MANAGER, ADMIN}),
    "users.admin": frozenset({ADMIN}),
    "audit.read": frozenset({ADMIN}),
    "integrations.admin": frozenset({ADMIN}),
    "metrics.read": frozenset({ADMIN}),
}


@dataclass(frozen=True)
class Principal:
    """The signed-in user of one request."""

    user_id: int
    username: str
    role: Role
    site_ids: frozenset[int] | None  # None: every site
    must_change_password: bool = False
    language: str = "vi"
    via: str = "session"  # session | token
    credential_hash: str = ""

    def can(self, permission: str) -> bool:
        return self.role in PERMISSIONS[permission]

    def require(self, permission: str) -> None:
        if not self.can(permission):
            raise ApiProblem(403, f"your role ({self.role}) may not do this ({permission})", code="role_not_permitted",
                             params={"role": str(self.role), "permission": permission})

    def sees_site(self, site_id: int | None) -> bool:
        """Whether an object of this site is within the user's scope (site-less objects: admins only
        when scoped, everyone otherwise)."""
        if self.site_ids is None:
            return True
        return site_id is not None and site_id in self.site_ids

    @property
    def scope(self) -> list[int] | None:
        """Site ids for SQL ``= ANY(%s)`` filters, or None for every site."""
        return None if self.site_ids is None else sorted(self.site_ids)

    def check_site_filter(self, site_ids: Iterable[int] | None) -> None:
        """403 when a request asks for a site outside the scope."""
        for site_id in site_ids or ():
            if not self.sees_site(site_id):
                raise ApiProblem(403, f"site {site_id} is outside your sites", code="site_outside_scope",
                                 params={"site_id": site_id})

    def visible(self, site_id: int | None, what: str = "object") -> None:
        """404 for an object in a site outside the scope."""
        if not self.sees_site(site_id):
            raise not_found(what)

    def covers(self, site_ids: Iterable[int] | None) -> bool:
        """Whether an object of these sites (None: every site) lies wholly within the scope; a scoped user
        covers no object of every site nor of no site."""
        if self.site_ids is None:
            return True
        return site_ids is not None and bool(set(site_ids)) and set(site_ids) <= self.site_ids

    def check_grant(self, site_ids: Iterable[int] | None, field: str) -> None:
        """403 when giving an object these sites (None: every site) would reach beyond the scope."""
        if self.site_ids is None:
            return
        if site_ids is None or not set(site_ids):
            raise ApiProblem(403, f"{field}: you may give only sites of your own, not every site",
                             code="every_site_outside_scope")
        self.check_site_filter(sorted(site_ids))
