/**
 * The VAPID key pair push services know this installation by: generated on first start and
 * kept in the store's settings (never in the repository), the same for every node, so a
 * device subscribed through one node receives pushes sent by any other.
 */
import webpush from 'web-push';
import type { Store } from '../store/store.js';
import type { VapidKeys } from './adapter.js';

const SETTING = 'vapid_keys';

export async function vapidKeys(store: Store, contact: string | undefined): Promise<VapidKeys> {
  const generated = webpush.generateVAPIDKeys();
  const stored = JSON.parse(await store.ensureSetting(SETTING, JSON.stringify(generated))) as {
    publicKey: string;
    privateKey: string;
  };
  return { ...stored, subject: contact ?? (await adminContact(store)) };
}

/** Push services want someone to contact about abuse: the first admin, unless PUSH_CONTACT says. */
async function adminContact(store: Store): Promise<string> {
  const admin = (await store.listUsers()).find((u) => u.role === 'admin' && !u.disabledAt);
  return `mailto:${admin?.email ?? 'signal-desk@localhost'}`;
}
