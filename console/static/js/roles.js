// What each role may use, mirrored from ops_api/roles.py to hide what a role cannot use. The server
// decides: a page opened anyway gets the API's 403 and shows "not allowed".

const OPERATOR = 'operator';
const MANAGER = 'manager';
const ENGINEER = 'engineer';
const ADMIN = 'admin';

export const PERMISSIONS = {
  'events.read': [OPERATOR, MANAGER, ADMIN],
  'events.workflow': [OPERATOR, ADMIN],
  'alarms.configure': [MANAGER, ADMIN],
  'handovers.read': [OPERATOR, MANAGER, ADMIN],
  'handovers.write': [OPERATOR, ADMIN],
  'map.read': [OPERATOR, MANAGER, ENGINEER, ADMIN],
  'map.edit': [MANAGER, ENGINEER, ADMIN],
  'cameras.read': [OPERATOR, ENGINEER, ADMIN],
  'cameras.write': [ENGINEER, ADMIN],
  'health.read': [OPERATOR, ENGINEER, ADMIN],
  'counters.stats': [MANAGER, ADMIN],
  'street.read': [OPERATOR, MANAGER, ADMIN],
  exports: [MANAGER, ADMIN],
  'users.admin': [ADMIN],
  'audit.read': [ADMIN],
  // Recordings: the server also checks each camera's audience (operators: streets; managers: their centers).
  'recordings.view': [OPERATOR, MANAGER, ADMIN],
  'recordings.export': [OPERATOR, MANAGER, ADMIN],
  'officers.read': [MANAGER, ADMIN],
  'officers.write': [MANAGER, ADMIN],
  'provinces.read': [MANAGER, ADMIN],
  'tickets.import': [MANAGER, ADMIN],
  'displays.admin': [ADMIN],
};

export function can(user, permission) {
  return Boolean(user) && (PERMISSIONS[permission] || []).includes(user.role);
}

// The pages, in menu order: path under /console/, menu label key, the permission that shows it.
export const PAGES = [
  { path: 'wall', label: 'nav.wall', permission: 'cameras.read', module: './pages/wall.js' },
  { path: 'alarms', label: 'nav.alarms', permission: 'events.read', module: './pages/alarms.js' },
  { path: 'events', label: 'nav.events', permission: 'events.read', module: './pages/events.js' },
  { path: 'map', label: 'nav.map', permission: 'map.read', module: './pages/map.js' },
  { path: 'handover', label: 'nav.handover', permission: 'handovers.read', module: './pages/handover.js' },
  { path: 'centers', label: 'nav.centers', permission: 'counters.stats', module: './pages/centers.js' },
  { path: 'counter-audit', label: 'nav.counter_audit', permission: 'counters.stats', module: './pages/counter_audit.js' },
  { path: 'province', label: 'province.nav', permission: 'provinces.read', module: './pages/province.js' },
  { path: 'officers', label: 'officers.nav', permission: 'officers.read', module: './pages/officers.js' },
  { path: 'tickets', label: 'tickets.nav', permission: 'tickets.import', module: './pages/tickets.js' },
  { path: 'streets', label: 'nav.streets', permission: 'street.read', module: './pages/streets.js' },
  { path: 'playback', label: 'playback.title', permission: 'recordings.view', module: './pages/playback.js' },
  { path: 'cameras', label: 'nav.cameras', permission: 'cameras.write', module: './pages/cameras.js' },
  { path: 'alarm-rules', label: 'nav.alarm_rules', permission: 'alarms.configure', module: './pages/alarm_rules.js' },
  { path: 'users', label: 'nav.users', permission: 'users.admin', module: './pages/users.js' },
  { path: 'audit-log', label: 'nav.audit_log', permission: 'audit.read', module: './pages/audit_log.js' },
];

export function homePage(user) {
  const first = PAGES.find((page) => can(user, page.permission));
  return first ? first.path : 'alarms';
}
