/**
 * Every kind of destination and its adapter. The engine looks adapters up here by the kind
 * stored with a destination; each kind has exactly one, and its config type follows from the kind.
 */
import type { DestinationAdapter, DestinationKind } from '../adapter.js';
import { discordAdapter, type DiscordConfig } from './discord.js';
import { pushAdapter, type PushConfig } from './push.js';
import { telegramAdapter, type TelegramConfig } from './telegram.js';
import { webhookAdapter, type WebhookConfig } from './webhook.js';

export interface AdapterConfigs {
  webhook: WebhookConfig;
  telegram: TelegramConfig;
  discord: DiscordConfig;
  push: PushConfig;
}

export const ADAPTERS: { readonly [K in DestinationKind]: DestinationAdapter<AdapterConfigs[K]> } = {
  webhook: webhookAdapter,
  telegram: telegramAdapter,
  discord: discordAdapter,
  push: pushAdapter,
};

export function adapterFor<K extends DestinationKind>(kind: K): DestinationAdapter<AdapterConfigs[K]> {
  return ADAPTERS[kind];
}
