/** A minimal Server-Sent Events reader over fetch, for tests. */
export interface SseMessage {
  id?: string;
  event: string;
  data: string;
}

export interface SseStream {
  status: number;
  messages: SseMessage[];
  waitFor(predicate: (messages: SseMessage[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): void;
  closed: Promise<void>;
}

export async function openSse(url: string, headers: Record<string, string>): Promise<SseStream> {
  const controller = new AbortController();
  const res = await fetch(url, { headers, signal: controller.signal });
  const messages: SseMessage[] = [];
  let ended = false;
  const closed = (async () => {
    if (!res.body || res.status !== 200) return;
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const message: SseMessage = { event: 'message', data: '' };
          let hasData = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            const [field, ...rest] = line.split(':');
            const value = rest.join(':').replace(/^ /, '');
            if (field === 'id') message.id = value;
            else if (field === 'event') message.event = value;
            else if (field === 'data') {
              message.data += value;
              hasData = true;
            }
          }
          if (hasData) messages.push(message);
        }
      }
    } catch {
      /* aborted */
    } finally {
      ended = true;
    }
  })();
  return {
    status: res.status,
    messages,
    closed,
    close: () => controller.abort(),
    waitFor: (predicate, timeoutMs = 10_000) =>
      new Promise<void>((resolve, reject) => {
        const started = Date.now();
        const tick = () => {
          if (predicate(messages)) return resolve();
          // Nothing more can come: say so now instead of at the timeout.
          if (ended) return reject(new Error(`SSE: the stream ended with ${messages.length} messages`));
          if (Date.now() - started > timeoutMs)
            return reject(new Error(`SSE: timed out with ${messages.length} messages`));
          setTimeout(tick, 10);
        };
        tick();
      }),
  };
}

/**
 * Opens a stream, reads it until the `live` marker (the replay is done) and closes it.
 * Resolves with the status and the messages before `live`; a non-200 answer has none.
 */
export async function readSseUntilLive(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; messages: SseMessage[] }> {
  const stream = await openSse(url, headers);
  try {
    if (stream.status !== 200) return { status: stream.status, messages: [] };
    await stream.waitFor((messages) => messages.some((m) => m.event === 'live'));
    const live = stream.messages.findIndex((m) => m.event === 'live');
    return { status: stream.status, messages: stream.messages.slice(0, live) };
  } finally {
    stream.close();
    await stream.closed;
  }
}
