/**
 * The one route table. A page is a folder under features/; adding one is a line here.
 * `nav` puts it in the top bar; `requires` names the ability (from `/api/me`) it needs,
 * so the UI never decides roles by itself.
 */
import { lazy, type ReactNode } from 'react';
import type { Abilities } from './api/types.js';
import { DashboardPage } from './features/dashboard/dashboard-page.js';

// Only the feed is in the first download; every other page loads when first opened.
const SignalPage = lazy(() => import('./features/signal/signal-page.js').then((m) => ({ default: m.SignalPage })));
const StatsPage = lazy(() => import('./features/stats/stats-page.js').then((m) => ({ default: m.StatsPage })));
const AdminPage = lazy(() => import('./features/admin/admin-page.js').then((m) => ({ default: m.AdminPage })));
const ChannelsPage = lazy(() => import('./features/admin/channels-page.js').then((m) => ({ default: m.ChannelsPage })));
const AccountPage = lazy(() => import('./features/account/account-page.js').then((m) => ({ default: m.AccountPage })));
const DestinationsPage = lazy(() =>
  import('./features/destinations/destinations-page.js').then((m) => ({ default: m.DestinationsPage })),
);
const UsersPage = lazy(() => import('./features/admin/users-page.js').then((m) => ({ default: m.UsersPage })));
const SourcesPage = lazy(() => import('./features/sources/sources-page.js').then((m) => ({ default: m.SourcesPage })));
const TokensPage = lazy(() => import('./features/tokens/tokens-page.js').then((m) => ({ default: m.TokensPage })));
const SystemPage = lazy(() => import('./features/system/system-page.js').then((m) => ({ default: m.SystemPage })));

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
  {
    path: '/admin/destinations',
    title: 'Destinations',
    nav: 'Destinations',
    requires: 'manageIntegrations',
    render: () => <DestinationsPage />,
  },
  {
    path: '/admin/sources',
    title: 'Sources',
    nav: 'Sources',
    requires: 'manageIntegrations',
    render: () => <SourcesPage />,
  },
  {
    path: '/admin/tokens',
    title: 'API tokens',
    nav: 'Tokens',
    requires: 'manageIntegrations',
    render: () => <TokensPage />,
  },
  { path: '/admin/system', title: 'System', nav: 'System', requires: 'viewSystem', render: () => <SystemPage /> },
  // Reached from the user's name in the top bar.
  { path: '/account', title: 'Account', render: () => <AccountPage /> },
];

export function allowed(route: RouteDef, abilities: Abilities): boolean {
  return route.requires === undefined || abilities[route.requires];
}
