/**
 * Replays served from the hub's window of recent events must be exactly what the log would
 * give — same events, same order, same scope — across page boundaries, for subscribers who
 * were away longer than the window, and for events committed before the hub started.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { StoredEvent } from '../../shared/events.js';
import { tempDir } from '../../test/helpers/databases.js';
import { signalData } from '../../test/helpers/signal-data.js';
import { MemoryBus } from '../bus/memory-bus.js';
import type { ChannelScope } from '../store/store.js';
import { openSqliteStore, type SqliteStore } from '../store/sqlite/sqlite-store.js';
import { Hub, type CatchUp } from './hub.js';

const dir = tempDir('hub-');
let store: SqliteStore;
const bus = new MemoryBus();

const data = (i: number) => signalData(`S${i}`);

async function publish(count: number, from: number): Promise<void> {
  for (let i = from; i < from + count; i++) {
    // Mostly fx, now and then crypto: scoped pages skip over the other channel's runs.
    const { event } = await store.append({
      type: 'signal.created',
      channel: i % 5 === 0 ? 'crypto' : 'fx',
      author: 'a',
      data: data(i),
    });
    await bus.publish({ kind: 'events', events: [event] });
  }
}

/** Everything a subscriber gets through replayThenLive: replayed pages, then the hand-over. */
async function replay(hub: Hub, afterSeq: number, scope: ChannelScope): Promise<number[]> {
  const got: StoredEvent[] = [];
  const canSee = (channel: string) => scope === 'all' || scope.includes(channel);
  const sub: CatchUp = {
    after: afterSeq,
    owner: 'tester',
    scope: () => scope,
    canSee,
    sendReplay: async (events) => {
      got.push(...events);
    },
    goLive: (pending) => {
      got.push(...pending);
    },
    isClosed: () => false,
  };
  await hub.replayThenLive(sub);
  return got.map((e) => e.seq);
}

async function fromLog(afterSeq: number, scope: ChannelScope): Promise<number[]> {
  const events = await store.readEvents({ after: afterSeq, limit: 100_000, channels: scope });
  return events.map((e) => e.seq);
}

before(async () => {
  store = openSqliteStore(join(dir.path, 'hub.db'));
  await store.migrate();
  await store.createChannel({ slug: 'fx', name: 'FX', description: null });
  await store.createChannel({ slug: 'crypto', name: 'Crypto', description: null });
});

after(async () => {
  await store.close();
  dir.remove();
});

test('replays from the window match the log, for every start, scope and page boundary', async () => {
  await publish(12, 0); // committed before the hub starts: only the log has them
  const hub = new Hub(store, { replayPageSize: 4, logPageSize: 3, recentEvents: 20 });
  await hub.start(bus);
  try {
    await publish(50, 12); // the window keeps the latest 20 to 40 of these
    assert.equal(hub.headSeq, 62);
    // The window holds seq 33…62 now (trimmed to 20 when it reached 40): older starts need the log.
    const readEvents = store.readEvents.bind(store);
    let logReads = 0;
    store.readEvents = (query) => {
      logReads++;
      return readEvents(query);
    };
    try {
      for (const scope of ['all', ['fx'], ['crypto'], ['fx', 'crypto'], []] as ChannelScope[]) {
        for (const start of [0, 5, 11, 12, 13, 30, 31, 32, 33, 41, 42, 43, 55, 61, 62]) {
          logReads = 0;
          const replayed = await replay(hub, start, scope);
          const fromWindow = logReads === 0;
          assert.deepEqual(replayed, await fromLog(start, scope), `after ${start}, scope ${JSON.stringify(scope)}`);
          assert.equal(fromWindow, start >= 32, `after ${start}: read from the window iff inside it`);
        }
      }
    } finally {
      store.readEvents = readEvents;
    }
  } finally {
    await hub.stop();
  }
});
