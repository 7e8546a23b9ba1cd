/**
 * Web Push on this device, the browser's side: whether it can, the permission (asked only
 * from a click), the subscription at the browser's push service, and which of the server's
 * devices is this one. Every way it can fail becomes a `PushSetupError` whose message says
 * what happened and what to do.
 */
import { api } from '../api/client.js';
import { serviceWorkerReady, serviceWorkerSupported } from './service-worker.js';

export type PushFailure = 'unsupported' | 'denied' | 'dismissed' | 'push-service' | 'server';

export class PushSetupError extends Error {
  constructor(
    readonly failure: PushFailure,
    message: string,
  ) {
    super(message);
  }
}

/** Why this browser cannot receive push notifications here, or null when it can. */
export function pushUnsupported(): string | null {
  if (!window.isSecureContext) {
    return 'Notifications need a secure connection: open signal-desk through its https:// address.';
  }
  if (!serviceWorkerSupported() || !('PushManager' in window) || !('Notification' in window)) {
    return /iPhone|iPad|iPod/.test(navigator.userAgent)
      ? 'On iPhone and iPad, notifications work once signal-desk is on the Home Screen: tap Share → Add to Home Screen, open it from there, and turn them on again.'
      : 'This browser cannot receive push notifications. Try a current Chrome, Edge, Firefox or Safari.';
  }
  return null;
}

/** The browser's answer so far: `granted`, `denied` or `default` (not asked, or the prompt was closed). */
export function notificationPermission(): NotificationPermission | null {
  return 'Notification' in window ? Notification.permission : null;
}

/**
 * Asks for the permission; call it straight from a click, before anything else is awaited,
 * since browsers only show the prompt in answer to one.
 */
export async function askPermission(): Promise<void> {
  const unsupported = pushUnsupported();
  if (unsupported) throw new PushSetupError('unsupported', unsupported);
  // Once blocked, the browser does not ask again; only its site settings can undo it.
  const permission = Notification.permission === 'denied' ? 'denied' : await Notification.requestPermission();
  if (permission === 'denied') {
    throw new PushSetupError(
      'denied',
      'Notifications are blocked for this site. Allow them in the browser’s site settings (the icon left of the address), then try again.',
    );
  }
  if (permission !== 'granted') {
    throw new PushSetupError(
      'dismissed',
      'The browser’s question was closed without an answer. Try again and choose Allow.',
    );
  }
}

/** This browser's subscription, if it has one; never registers or asks anything. */
export async function currentSubscription(): Promise<PushSubscription | null> {
  if (pushUnsupported()) return null;
  const registration = await navigator.serviceWorker.getRegistration('/');
  return registration ? registration.pushManager.getSubscription() : null;
}

/**
 * The subscription at the browser's push service for the server's VAPID key: the one the
 * browser has when it was made for that key, else a new one.
 */
export async function subscribe(publicKey: string): Promise<PushSubscription> {
  const registration = await serviceWorkerReady().catch((error: unknown) => {
    throw new PushSetupError('unsupported', `The app’s service worker could not start (${describe(error)}).`);
  });
  const key = keyBytes(publicKey);
  try {
    const existing = await registration.pushManager.getSubscription();
    if (existing) {
      const existingKey = existing.options?.applicationServerKey;
      // A subscription made for another key (the server's keys were replaced) cannot be pushed to.
      if (!existingKey || sameBytes(new Uint8Array(existingKey), key)) return existing;
      await existing.unsubscribe().catch(() => false);
    }
    return await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'NotAllowedError') {
      throw new PushSetupError(
        'denied',
        'The browser refused to subscribe: notifications are not allowed for this site.',
      );
    }
    throw new PushSetupError(
      'push-service',
      `The browser could not reach its push service (${describe(error)}). Check the connection — and, in Brave or a browser with Google services off, that push messaging is allowed — then try again.`,
    );
  }
}

/** The VAPID public key (base64url, as the server gives it) as the bytes `subscribe` wants. */
export function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const base64 = base64url.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function describe(error: unknown): string {
  return error instanceof Error && error.message ? error.message : String(error);
}

/** "Chrome on Android", "Safari on iPhone": how a person tells their devices apart in the list. */
export function deviceLabel(userAgent: string = navigator.userAgent): string {
  const browser = /Edg\//.test(userAgent)
    ? 'Edge'
    : /OPR\/|Opera/.test(userAgent)
      ? 'Opera'
      : /SamsungBrowser/.test(userAgent)
        ? 'Samsung Internet'
        : /Firefox\/|FxiOS/.test(userAgent)
          ? 'Firefox'
          : /Chrome\/|Chromium\/|CriOS/.test(userAgent)
            ? 'Chrome'
            : /Safari\//.test(userAgent)
              ? 'Safari'
              : 'Browser';
  const system = /iPhone/.test(userAgent)
    ? 'iPhone'
    : /iPad/.test(userAgent)
      ? 'iPad'
      : /Android/.test(userAgent)
        ? 'Android'
        : /Windows/.test(userAgent)
          ? 'Windows'
          : /Mac OS X|Macintosh/.test(userAgent)
            ? 'macOS'
            : /CrOS/.test(userAgent)
              ? 'ChromeOS'
              : /Linux/.test(userAgent)
                ? 'Linux'
                : null;
  return system ? `${browser} on ${system}` : browser;
}

// The server lists devices without their endpoints, so this browser remembers which one it is.
const DEVICE_KEY = 'signal-desk.push-device';

export function rememberDevice(endpoint: string, id: string): void {
  try {
    localStorage.setItem(DEVICE_KEY, JSON.stringify({ endpoint, id }));
  } catch {
    // Storage off: the device works, it is just not marked as this one.
  }
}

export function forgetDevice(): void {
  try {
    localStorage.removeItem(DEVICE_KEY);
  } catch {}
}

/** The server's id of this browser's device, when it is the one subscribed at `endpoint`. */
export function rememberedDevice(endpoint: string | null): string | null {
  if (endpoint === null) return null;
  try {
    const stored = JSON.parse(localStorage.getItem(DEVICE_KEY) ?? 'null') as {
      endpoint?: unknown;
      id?: unknown;
    } | null;
    return stored?.endpoint === endpoint && typeof stored.id === 'string' ? stored.id : null;
  } catch {
    return null;
  }
}

/**
 * Turns notifications off for this browser, on the server and at the push service, when it
 * has them on; for signing out, so a shared computer stops showing the account's signals.
 * Never throws: signing out goes on whatever the server says.
 */
export async function turnOffThisDevice(): Promise<void> {
  try {
    const subscription = await currentSubscription();
    const id = rememberedDevice(subscription?.endpoint ?? null);
    if (!subscription || id === null) return;
    await api('DELETE', `/api/push/subscriptions/${encodeURIComponent(id)}`).catch(() => undefined);
    forgetDevice();
    await subscription.unsubscribe();
  } catch {
    // No service worker or push support: nothing was on.
  }
}
