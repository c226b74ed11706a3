"""Who may do what: roles, permissions and site scope, enforced on the server for every request.

A permission is granted to roles (the table below is the one place that decides). A user may be scoped
to some sites (``users.site_ids``; NULL = every site) and to whole provinces (``users.province_ids``): the
store expands the provinces to their sites when it signs the user in (``store.accounts.signed_in_user``), so
``site_ids`` here is the whole scope and every check below applies to province-wide users unchanged. Lists
are filtered to the scope, a filter naming a site outside it is 403, and an object in a site outside it is 404
(the user may not know it exists).
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
    # Recorded footage is personal data: these roles, and then only the camera's audience (ops_api/footage.py).
    "recordings.view": frozenset({OPERATOR, MANAGER, ADMIN}),
    "recordings.export": frozenset({OPERATOR, MANAGER, ADMIN}),
    "recordings.holds": frozenset({ADMIN}),
    # Service centers (issue 17): officers are people; their pages and reports are for managers and admins.
    "officers.read": frozenset({MANAGER, ADMIN}),
    "officers.write": frozenset({MANAGER, ADMIN}),
    "provinces.read": frozenset({MANAGER, ADMIN}),
    "tickets.import": frozenset({MANAGER, ADMIN}),
    "displays.admin": frozenset({ADMIN}),
}


@dataclass(frozen=True)
class Principal:
    """The signed-in user of one request."""

    user_id: int
    username: str
    role: Role
    site_ids: frozenset[int] | None  # None: every site; else the user's sites and its provinces' sites
    must_change_password: bool = False
    language: str = "vi"
    via: str = "session"  # session | token
    credential_hash: str = ""
    province_ids: frozenset[int] | None = None  # the provinces the scope names whole (None: none, or every site)

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

    @property
    def provinces(self) -> list[int] | None:
        """The provinces the user may give others whole: None for an admin of every site, else its own."""
        return None if self.site_ids is None else sorted(self.province_ids or ())

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

    def check_province_grant(self, province_ids: Iterable[int] | None, field: str) -> None:
        """403 when giving an object these whole provinces would reach beyond the scope: a user of every site may
        give any, a province-wide user only its own provinces (sites it holds one by one are not a province:
        the province's future centers are not its own)."""
        if self.site_ids is None or not province_ids:
            return
        outside = sorted(set(province_ids) - set(self.province_ids or ()))
        if outside:
            raise ApiProblem(403, f"{field}: province {outside[0]} is not one of your provinces",
                             code="province_outside_scope", params={"province_id": outside[0]})
