/**
 * The one route table. A page is a folder under features/; adding one is a line here.
 * `nav` puts it in the top bar; `requires` names the ability (from `/api/me`) it needs,
 * so the UI never decides roles by itself.
 */
import type { ReactNode } from 'react';
import type { Abilities } from './api/types.js';
import { AdminPage } from './features/admin/admin-page.js';
import { ChannelsPage } from './features/admin/channels-page.js';
import { UsersPage } from './features/admin/users-page.js';
import { DashboardPage } from './features/dashboard/dashboard-page.js';
import { SignalPage } from './features/signal/signal-page.js';
import { StatsPage } from './features/stats/stats-page.js';

export interface RouteDef {
  path: string;
  title: string;
  /** Label in the navigation bar; absent for pages reached by links. */
  nav?: string;
  requires?: keyof Abilities;
  render(params: Record<string, string>): ReactNode;
}

export const ROUTES: readonly RouteDef[] = [
  { path: '/', title: 'Signals', nav: 'Signals', render: () => <DashboardPage /> },
  { path: '/signals/:id', title: 'Signal', render: (p) => <SignalPage id={p.id ?? ''} /> },
  { path: '/stats', title: 'Statistics', nav: 'Statistics', render: () => <StatsPage /> },
  { path: '/admin', title: 'Admin console', nav: 'Publish', requires: 'publish', render: () => <AdminPage /> },
  {
    path: '/admin/channels',
    title: 'Channels',
    nav: 'Channels',
    requires: 'manageChannels',
    render: () => <ChannelsPage />,
  },
  { path: '/admin/users', title: 'Users', nav: 'Users', requires: 'manageUsers', render: () => <UsersPage /> },
];

export function allowed(route: RouteDef, abilities: Abilities): boolean {
  return route.requires === undefined || abilities[route.requires];
}
