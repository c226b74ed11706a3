// The site picker shared by the report pages: the sites of one kind in the user's scope.

import { h, select } from './dom.js';
import { t } from './i18n.js';

export function sitesOfKind(ctx, kind) {
  return ctx.sites.filter((site) => site.kind === kind);
}

/** The chosen site (from ?site= or the first one) and a <select> that navigates to `path?site=<id>`. */
export function sitePicker(ctx, kind, path, extra = '') {
  const sites = sitesOfKind(ctx, kind);
  const wanted = Number(ctx.query.site);
  const site = sites.find((s) => s.id === wanted) || sites[0] || null;
  const element = sites.length ? select(sites.map((s) => [s.id, s.name]), site?.id, {
    id: 'site-picker', onchange: (e) => ctx.navigate(`${path}?site=${e.target.value}${extra}`) })
    : h('span', { class: 'muted' }, t('common.no_sites'));
  return { site, element };
}
