/**
 * The local Telegram Bot API and Discord webhook servers answer as the real services do, checked
 * with plain fetch the way the product will call them.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { startDiscordServer, type DiscordServer } from './discord-server.js';
import { startTelegramServer, type TelegramEntity, type TelegramServer } from './telegram-server.js';

interface TelegramAnswer {
  ok: boolean;
  result?: {
    message_id: number;
    date: number;
    text: string;
    chat: { id: number; type: string; title?: string; username?: string };
    from?: { id: number; is_bot: boolean; username: string };
    sender_chat?: { id: number };
    entities?: TelegramEntity[];
    is_bot?: boolean;
    username?: string;
  };
  error_code?: number;
  description?: string;
  parameters?: { retry_after?: number; migrate_to_chat_id?: number };
}

interface Answer<T> {
  status: number;
  headers: Headers;
  body: T;
}

async function readAnswer<T>(res: Response): Promise<Answer<T>> {
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text === '' ? null : JSON.parse(text)) as T };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves to true when `promise` is still pending after `ms`. */
async function stillPending(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return Promise.race([promise.then(() => false), sleep(ms).then(() => true)]);
}

/** The network error code of a fetch, or undefined when it got an answer. */
async function networkError(url: string): Promise<string | undefined> {
  try {
    await fetch(url);
    return undefined;
  } catch (error) {
    return ((error as Error).cause as NodeJS.ErrnoException | undefined)?.code;
  }
}

/** After down(): the pooled connection may fail first (it was reset); a new one is refused. */
async function assertRefused(url: string): Promise<void> {
  const first = await networkError(url);
  assert.ok(first === 'ECONNREFUSED' || first === 'UND_ERR_SOCKET', String(first));
  assert.equal(await networkError(url), 'ECONNREFUSED');
}

describe('Telegram Bot API server', () => {
  const supergroup = -1001234567890;
  const group = -555111;
  const user = 42;
  let tg: TelegramServer;

  const call = async (method: string, params: Record<string, unknown>, token = tg.token) =>
    readAnswer<TelegramAnswer>(
      await fetch(tg.methodUrl(method, token), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(params),
      }),
    );
  const send = (params: Record<string, unknown>) => call('sendMessage', { chat_id: supergroup, ...params });

  before(async () => {
    tg = await startTelegramServer({ chats: [supergroup, group, user, '@signals_channel'] });
  });
  beforeEach(() => tg.reset());
  after(() => tg.close());

  test('getMe answers the bot; an unknown token is 401, a malformed one too, an unknown method 404', async () => {
    const me = await call('getMe', {});
    assert.equal(me.status, 200);
    assert.equal(me.body.ok, true);
    assert.equal(me.body.result?.is_bot, true);
    assert.equal(me.body.result?.username, `test_${tg.token.split(':')[0]}_bot`);

    const stranger = await call('getMe', {}, `123456:${'A'.repeat(35)}`);
    assert.equal(stranger.status, 401);
    assert.deepEqual(stranger.body, { ok: false, error_code: 401, description: 'Unauthorized' });
    const malformed = await call('getMe', {}, 'not-a-token');
    assert.equal(malformed.status, 401);
    assert.equal(malformed.body.description, 'Unauthorized: invalid token specified');
    const unknown = await call('sendSticker', {});
    assert.deepEqual(unknown.body, { ok: false, error_code: 404, description: 'Not Found' });
    // Method names are case-insensitive.
    assert.equal((await call('GETME', {})).status, 200);
  });

  test('sendMessage answers the message as Telegram does and records it', async () => {
    const before = Math.floor(Date.now() / 1000);
    const first = await send({ text: 'BUY XAUUSD', disable_notification: true });
    assert.equal(first.status, 200);
    const result = first.body.result;
    assert.equal(first.body.ok, true);
    assert.equal(result?.message_id, 1);
    assert.equal(result?.text, 'BUY XAUUSD');
    assert.equal(result?.chat.id, supergroup);
    assert.equal(result?.chat.type, 'supergroup');
    assert.equal(typeof result?.chat.title, 'string');
    assert.equal(result?.from?.is_bot, true);
    assert.ok((result?.date ?? 0) >= before);
    assert.equal(result?.entities, undefined);

    // The same method over a form body and over the query string; ids go on per chat.
    const form = await fetch(tg.methodUrl('sendMessage'), {
      method: 'POST',
      body: new URLSearchParams({ chat_id: String(supergroup), text: 'SELL EURUSD' }),
    });
    assert.equal(((await form.json()) as TelegramAnswer).result?.message_id, 2);
    const query = await fetch(`${tg.methodUrl('sendMessage')}?chat_id=${group}&text=hold`);
    assert.equal(((await query.json()) as TelegramAnswer).result?.message_id, 1);

    assert.deepEqual(
      tg.messages.map((m) => [m.chatId, m.messageId, m.text, m.disableNotification]),
      [
        [supergroup, 1, 'BUY XAUUSD', true],
        [supergroup, 2, 'SELL EURUSD', false],
        [group, 1, 'hold', false],
      ],
    );
    assert.deepEqual(
      tg.requests.map((r) => [r.method, r.status]),
      [
        ['sendmessage', 200],
        ['sendmessage', 200],
        ['sendmessage', 200],
      ],
    );
  });

  test('a public channel is addressed by @username and its posts are signed by the channel', async () => {
    const posted = await call('sendMessage', { chat_id: '@Signals_Channel', text: 'hi' });
    assert.equal(posted.status, 200);
    assert.equal(posted.body.result?.chat.type, 'channel');
    assert.equal(posted.body.result?.sender_chat?.id, posted.body.result?.chat.id);
    assert.equal(posted.body.result?.from, undefined);
    assert.equal(tg.messages[0]?.chatId, posted.body.result?.chat.id);
  });

  test('sendMessage refuses what Telegram refuses, with its status and description', async () => {
    const cases: [Record<string, unknown>, number, string][] = [
      [{ chat_id: supergroup }, 400, 'Bad Request: message text is empty'],
      [{ chat_id: supergroup, text: '' }, 400, 'Bad Request: message text is empty'],
      [{ text: 'x' }, 400, 'Bad Request: chat_id is empty'],
      [{ chat_id: -100999, text: 'x' }, 400, 'Bad Request: chat not found'],
      [{ chat_id: '@nobody', text: 'x' }, 400, 'Bad Request: chat not found'],
      [{ chat_id: supergroup, text: ' \n\t ' }, 400, 'Bad Request: text must be non-empty'],
      [{ chat_id: supergroup, text: '<b> </b>', parse_mode: 'HTML' }, 400, 'Bad Request: text must be non-empty'],
      [{ chat_id: supergroup, text: 'a'.repeat(4097) }, 400, 'Bad Request: message is too long'],
      [{ chat_id: supergroup, text: 'x', parse_mode: 'Textile' }, 400, 'Bad Request: unsupported parse_mode'],
      [
        { chat_id: supergroup, text: 'x', link_preview_options: '{oops' },
        400,
        "Bad Request: can't parse link preview options JSON object",
      ],
      // Markup is parsed before the chat is looked at.
      [
        { chat_id: -100999, text: '<p>', parse_mode: 'HTML' },
        400,
        `Bad Request: can't parse entities: Unsupported start tag "p" at byte offset 0`,
      ],
    ];
    for (const [params, status, description] of cases) {
      const answer = await call('sendMessage', params);
      assert.equal(answer.status, status, JSON.stringify(params));
      assert.deepEqual(answer.body, { ok: false, error_code: status, description }, JSON.stringify(params));
    }
    assert.equal(tg.messages.length, 0);
    assert.equal((await send({ text: 'a'.repeat(4096) })).status, 200);
  });

  test('HTML is parsed as Telegram parses it: stored as shown, entities in UTF-16 offsets', async () => {
    const rawText =
      '  <b>BUY</b> XAU&amp;USD &lt;1h&gt; 📈 <a href="https://example.com/s/1">chart</a>\r\n' +
      '<pre><code class="language-text">1.2345</code></pre> <tg-spoiler>tp</tg-spoiler>\n\n';
    const answer = await send({ text: rawText, parse_mode: 'HTML' });
    assert.equal(answer.status, 200, answer.body.description);
    const shown = 'BUY XAU&USD <1h> 📈 chart\n1.2345 tp';
    assert.equal(answer.body.result?.text, shown);
    assert.deepEqual(answer.body.result?.entities, [
      { type: 'bold', offset: 0, length: 3 },
      { type: 'text_link', offset: 20, length: 5, url: 'https://example.com/s/1' },
      { type: 'pre', offset: 26, length: 6, language: 'text' },
      { type: 'spoiler', offset: 33, length: 2 },
    ]);
    const [message] = tg.messages;
    assert.equal(message?.text, shown);
    assert.equal(message?.rawText, rawText);
    assert.equal(message?.parseMode, 'HTML');
  });

  test('HTML that Telegram cannot parse is refused with its description and byte offset', async () => {
    const cases: [string, string][] = [
      ['1 < 2', 'Unsupported start tag "" at byte offset 2'],
      ['€ <p>x</p>', 'Unsupported start tag "p" at byte offset 4'],
      ['<b>open', `Can't find end tag corresponding to start tag "b"`],
      ['<b>x</i>', 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'],
      ['x</b>', 'Unexpected end tag at byte offset 1'],
      ['<b', 'Unclosed start tag at byte offset 0'],
      ['<a href', 'Unclosed start tag "a" at byte offset 0'],
      ['<span>x</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'],
      ['<a href=x/y>x</a>', 'Unexpected end of name token at byte offset 8'],
      ['<tg-emoji emoji-id="x">👍</tg-emoji>', 'Invalid custom emoji identifier specified'],
      // TDLib's own cases: offsets count UTF-8 bytes (🏟 is four).
      ['🏟 🏟&lt;<i>a</em   >', 'Unmatched end tag at byte offset 17, expected "</i>", found "</em>"'],
      ['🏟 🏟&lt;<i    aba  =  190azAz-.,', 'Unexpected end of name token at byte offset 27'],
      [
        '&#xDFDF;',
        'Text contains invalid Unicode characters after decoding HTML entities, check for unmatched surrogate code units',
      ],
    ];
    for (const [text, problem] of cases) {
      const answer = await send({ text, parse_mode: 'HTML' });
      assert.equal(answer.status, 400, text);
      assert.equal(answer.body.description, `Bad Request: can't parse entities: ${problem}`, text);
    }
    assert.equal(tg.messages.length, 0);
  });

  test('HTML: a bare & or > is refused as the documentation requires, unless strictHtml is off', async () => {
    const ampersand = await send({ text: 'AT&T', parse_mode: 'HTML' });
    assert.equal(
      ampersand.body.description,
      `Bad Request: can't parse entities: Character "&" at byte offset 2 must be replaced with "&amp;"`,
    );
    const greater = await send({ text: 'a > b', parse_mode: 'HTML' });
    assert.equal(greater.status, 400);
    // Escaped, or in no parse mode, they are fine.
    assert.equal((await send({ text: 'AT&amp;T a &gt; b', parse_mode: 'HTML' })).body.result?.text, 'AT&T a > b');
    assert.equal((await send({ text: 'AT&T <b>' })).body.result?.text, 'AT&T <b>');

    const lenient = await startTelegramServer({ strictHtml: false, chats: [supergroup] });
    try {
      const res = await fetch(lenient.methodUrl('sendMessage'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ chat_id: supergroup, text: 'AT&T a > b &nbsp;', parse_mode: 'html' }),
      });
      assert.equal(((await res.json()) as TelegramAnswer).result?.text, 'AT&T a > b &nbsp;');
    } finally {
      await lenient.close();
    }
  });

  test('the 4096 limit counts the text after parsing', async () => {
    const answer = await send({ text: `<b>${'a'.repeat(4090)}</b>&amp;&lt;&gt;xyz`, parse_mode: 'HTML' });
    assert.equal(answer.status, 200, answer.body.description);
    assert.equal(tg.messages[0]?.text.length, 4096);
    const over = await send({ text: `<i>${'a'.repeat(4097)}</i>`, parse_mode: 'HTML' });
    assert.equal(over.body.description, 'Bad Request: message is too long');
  });

  test('MarkdownV2: every reserved character must be escaped; entities nest', async () => {
    const cases: [string, string][] = [
      ['Price 1.2345', `Character '.' is reserved and must be escaped with the preceding '\\'`],
      ['TP (2)', `Character '(' is reserved and must be escaped with the preceding '\\'`],
      ['*bold', "Can't find end of Bold entity at byte offset 0"],
      ['ok _it', "Can't find end of Italic entity at byte offset 3"],
      ['[chart](https://example.com', "Can't find end of a URL at byte offset 8"],
    ];
    for (const [text, problem] of cases) {
      const answer = await send({ text, parse_mode: 'MarkdownV2' });
      assert.equal(answer.body.description, `Bad Request: can't parse entities: ${problem}`, text);
    }
    const answer = await send({
      text: '*BUY _XAU_* at 1\\.2345 \\(TP 2\\) [chart](https://example.com/c) `a.b` ||hidden||',
      parse_mode: 'MarkdownV2',
    });
    assert.equal(answer.status, 200, answer.body.description);
    assert.equal(answer.body.result?.text, 'BUY XAU at 1.2345 (TP 2) chart a.b hidden');
    assert.deepEqual(answer.body.result?.entities, [
      { type: 'bold', offset: 0, length: 7 },
      { type: 'italic', offset: 4, length: 3 },
      { type: 'text_link', offset: 25, length: 5, url: 'https://example.com/c' },
      { type: 'code', offset: 31, length: 3 },
      { type: 'spoiler', offset: 35, length: 6 },
    ]);
    // A quote ending in || is expandable.
    const quote = await send({ text: '>Entry 2350\n>Stop 2340||\nend', parse_mode: 'MarkdownV2' });
    assert.equal(quote.body.result?.text, 'Entry 2350\nStop 2340\nend');
    assert.deepEqual(quote.body.result?.entities, [{ type: 'expandable_blockquote', offset: 0, length: 21 }]);
  });

  test('Markdown (legacy): four markers, no nesting', async () => {
    const answer = await send({ text: '*BUY* _XAU_ 1.2 (x) `code`', parse_mode: 'Markdown' });
    assert.equal(answer.body.result?.text, 'BUY XAU 1.2 (x) code');
    assert.deepEqual(
      answer.body.result?.entities?.map((e) => e.type),
      ['bold', 'italic', 'code'],
    );
    const broken = await send({ text: 'snake_case', parse_mode: 'Markdown' });
    assert.equal(
      broken.body.description,
      "Bad Request: can't parse entities: Can't find end of the entity starting at byte offset 5",
    );
  });

  test('flood control: past the per-group limit, 429 with retry_after in whole seconds and Retry-After', async () => {
    const limited = await startTelegramServer({ limitPerMinute: 2, chats: [supergroup] });
    try {
      const post = () =>
        fetch(limited.methodUrl('sendMessage'), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ chat_id: supergroup, text: 'signal' }),
        }).then((res) => readAnswer<TelegramAnswer>(res));
      assert.equal((await post()).status, 200);
      assert.equal((await post()).status, 200);
      const third = await post();
      assert.equal(third.status, 429);
      const retryAfter = third.body.parameters?.retry_after ?? 0;
      assert.ok(Number.isInteger(retryAfter) && retryAfter >= 59 && retryAfter <= 60, String(retryAfter));
      assert.deepEqual(third.body, {
        ok: false,
        error_code: 429,
        description: `Too Many Requests: retry after ${retryAfter}`,
        parameters: { retry_after: retryAfter },
      });
      assert.equal(third.headers.get('retry-after'), String(retryAfter));
      assert.equal(limited.messages.length, 2);
    } finally {
      await limited.close();
    }
  });

  test('flood control: a private chat takes about one message a second', async () => {
    assert.equal((await call('sendMessage', { chat_id: user, text: 'one' })).status, 200);
    const second = await call('sendMessage', { chat_id: user, text: 'two' });
    assert.equal(second.status, 429);
    assert.equal(second.body.parameters?.retry_after, 1);
    // Other chats are not held up by it.
    assert.equal((await send({ text: 'group' })).status, 200);
  });

  test('a blocked or removed bot gets 403; a migrated group gets 400 with migrate_to_chat_id', async () => {
    tg.forbid(user);
    const blocked = await call('sendMessage', { chat_id: user, text: 'x' });
    assert.deepEqual(blocked.body, {
      ok: false,
      error_code: 403,
      description: 'Forbidden: bot was blocked by the user',
    });
    tg.forbid(supergroup);
    assert.equal((await send({ text: 'x' })).body.description, 'Forbidden: bot was kicked from the supergroup chat');
    tg.allow(supergroup);
    tg.allow(user);
    assert.equal((await send({ text: 'x' })).status, 200);

    const supergroupId = tg.migrate(group);
    const moved = await call('sendMessage', { chat_id: group, text: 'x' });
    assert.deepEqual(moved.body, {
      ok: false,
      error_code: 400,
      description: 'Bad Request: group chat was upgraded to a supergroup chat',
      parameters: { migrate_to_chat_id: supergroupId },
    });
    const there = await call('sendMessage', { chat_id: supergroupId, text: 'x' });
    assert.equal(there.body.result?.chat.type, 'supergroup');
  });

  test('failNext answers the next requests with a status: JSON for 500, nginx’s page for 502', async () => {
    tg.failNext(1, 500);
    tg.failNext(1, 502);
    const first = await send({ text: 'x' });
    assert.deepEqual(first.body, { ok: false, error_code: 500, description: 'Internal Server Error' });
    const second = await fetch(tg.methodUrl('sendMessage'), { method: 'POST' });
    assert.equal(second.status, 502);
    assert.match(second.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await second.text(), /<title>502 Bad Gateway<\/title>/);
    assert.equal((await send({ text: 'x' })).status, 200);
    assert.deepEqual(
      tg.requests.map((r) => r.status),
      [500, 502, 200],
    );
    assert.equal(tg.messages.length, 1);
  });

  test('pause holds requests unanswered until resume', async () => {
    tg.pause();
    const pending = send({ text: 'held' });
    assert.equal(await stillPending(pending, 100), true);
    assert.equal(tg.messages.length, 0);
    tg.resume();
    assert.equal((await pending).status, 200);
    assert.equal(tg.messages.length, 1);
  });

  test('down refuses connections; up listens again on the same port', async () => {
    const { port, url } = tg;
    await tg.down();
    await assertRefused(`${url}/bot${tg.token}/getMe`);
    await tg.up();
    assert.equal(tg.port, port);
    assert.equal((await call('getMe', {})).status, 200);
  });

  test('waitFor resolves once its predicate holds, and rejects at its timeout', async () => {
    const arrived = tg.waitFor((messages) => messages.some((m) => m.text === 'late'), 2000);
    setTimeout(() => void send({ text: 'late' }), 20);
    await arrived;
    await assert.rejects(
      tg.waitFor((messages) => messages.length > 5, 50),
      /timed out after 50 ms/,
    );
  });
});

interface DiscordError {
  code: number;
  message: string;
  errors?: Record<string, unknown>;
}

describe('Discord webhook server', () => {
  let discord: DiscordServer;

  const execute = async (body: unknown, url = discord.webhook.url, init: RequestInit = {}) =>
    readAnswer<DiscordError & Record<string, unknown>>(
      await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
        ...init,
      }),
    );

  before(async () => {
    // Roomy limits here; the rate-limit tests start servers with Discord's own.
    discord = await startDiscordServer({
      webhooks: [{ name: 'Signal Desk' }, {}],
      rateLimit: { limit: 1000, windowMs: 2000 },
      channelLimitPerMinute: 1000,
    });
  });
  beforeEach(() => discord.reset());
  after(() => discord.close());

  const embed = {
    title: 'BUY XAUUSD',
    description: 'Gold breaks out',
    url: 'https://example.com/s/1',
    color: 0x2ecc71,
    timestamp: '2024-05-01T12:00:00Z',
    fields: [
      { name: 'Entry', value: '2350.5', inline: true },
      { name: 'Stop', value: '2340' },
    ],
    footer: { text: 'signal-desk' },
  };

  test('an execute is 204 without wait, 200 with the message with wait=true; embeds are recorded', async () => {
    const quiet = await execute({ content: 'New signal', embeds: [embed] });
    assert.equal(quiet.status, 204);
    assert.equal(quiet.body, null);

    const loud = await execute({ embeds: [embed], username: 'Desk' }, `${discord.webhook.url}?wait=true`);
    assert.equal(loud.status, 200);
    assert.match(String(loud.body.id), /^\d{17,20}$/);
    assert.equal(loud.body.channel_id, discord.webhook.channelId);
    assert.equal(loud.body.webhook_id, discord.webhook.id);
    assert.equal(loud.body.content, '');
    assert.match(String(loud.body.timestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
    assert.equal((loud.body.author as { username: string }).username, 'Desk');
    const [stored] = loud.body.embeds as Record<string, unknown>[];
    assert.equal(stored?.type, 'rich');
    assert.equal(stored?.timestamp, '2024-05-01T12:00:00.000000+00:00');
    assert.deepEqual(stored?.fields, [
      { name: 'Entry', value: '2350.5', inline: true },
      { name: 'Stop', value: '2340', inline: false },
    ]);

    assert.deepEqual(
      discord.messages.map((m) => [m.content, m.wait, m.embeds.length, m.embeds[0]?.title]),
      [
        ['New signal', false, 1, 'BUY XAUUSD'],
        ['', true, 1, 'BUY XAUUSD'],
      ],
    );
    assert.equal(discord.messages[1]?.messageId, loud.body.id);
    // The versioned API path is the same webhook.
    const versioned = discord.webhook.url.replace('/api/', '/api/v10/');
    assert.equal((await execute({ content: 'v10' }, versioned)).status, 204);
  });

  test('unknown webhook, wrong token, malformed id; GET returns the webhook', async () => {
    const { id, token, url } = discord.webhook;
    const unknown = await execute({ content: 'x' }, `${discord.url}/api/webhooks/123456789012345678/${token}`);
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.body, { message: 'Unknown Webhook', code: 10015 });
    const wrong = await execute({ content: 'x' }, `${discord.url}/api/webhooks/${id}/${'x'.repeat(68)}`);
    assert.equal(wrong.status, 401);
    assert.deepEqual(wrong.body, { message: 'Invalid Webhook Token', code: 50027 });
    const malformed = await execute({ content: 'x' }, `${discord.url}/api/webhooks/abc/${token}`);
    assert.equal(malformed.status, 400);
    assert.deepEqual(malformed.body, {
      code: 50035,
      errors: { webhook_id: { _errors: [{ code: 'NUMBER_TYPE_COERCE', message: 'Value "abc" is not snowflake.' }] } },
      message: 'Invalid Form Body',
    });
    const fetched = await readAnswer<Record<string, unknown>>(await fetch(url));
    assert.equal(fetched.status, 200);
    assert.equal(fetched.body.id, id);
    assert.equal(fetched.body.name, 'Signal Desk');
    assert.equal(fetched.body.type, 1);

    discord.removeWebhook(id);
    assert.equal((await execute({ content: 'x' }, url)).body.code, 10015);
    discord.addWebhook({ id, token, channelId: discord.webhook.channelId });
    assert.equal((await execute({ content: 'x' }, url)).status, 204);
  });

  test('an empty message is 50006, a broken body 50109', async () => {
    for (const body of [{}, { content: '' }, { content: '   ' }, { embeds: [] }]) {
      const answer = await execute(body);
      assert.equal(answer.status, 400);
      assert.deepEqual(answer.body, { message: 'Cannot send an empty message', code: 50006 });
    }
    const broken = await execute('{"content": ');
    assert.deepEqual(broken.body, { message: 'The request body contains invalid JSON.', code: 50109 });
    assert.equal(discord.messages.length, 0);
  });

  test('Invalid Form Body names every broken limit at its path', async () => {
    const long = (n: number) => 'x'.repeat(n);
    const cases: [unknown, string[], string, string][] = [
      [{ content: long(2001) }, ['content'], 'BASE_TYPE_MAX_LENGTH', 'Must be 2000 or fewer in length.'],
      [{ content: 'x', username: '' }, ['username'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 80 in length.'],
      [
        { content: 'x', username: 'Discord bot' },
        ['username'],
        'USERNAME_INVALID_CONTAINS',
        'Username cannot contain "discord"',
      ],
      [
        { embeds: Array(11).fill({ title: 't' }) },
        ['embeds'],
        'BASE_TYPE_MAX_LENGTH',
        'Must be 10 or fewer in length.',
      ],
      [
        { embeds: [{ title: long(257) }] },
        ['embeds', '0', 'title'],
        'BASE_TYPE_MAX_LENGTH',
        'Must be 256 or fewer in length.',
      ],
      [
        { embeds: [{ description: long(4097) }] },
        ['embeds', '0', 'description'],
        'BASE_TYPE_MAX_LENGTH',
        'Must be 4096 or fewer in length.',
      ],
      [
        { embeds: [{ fields: Array(26).fill({ name: 'n', value: 'v' }) }] },
        ['embeds', '0', 'fields'],
        'BASE_TYPE_MAX_LENGTH',
        'Must be 25 or fewer in length.',
      ],
      [
        { embeds: [{ fields: [{ name: long(257), value: 'v' }] }] },
        ['embeds', '0', 'fields', '0', 'name'],
        'BASE_TYPE_MAX_LENGTH',
        'Must be 256 or fewer in length.',
      ],
      [
        { embeds: [{ fields: [{ name: 'n', value: long(1025) }] }] },
        ['embeds', '0', 'fields', '0', 'value'],
        'BASE_TYPE_MAX_LENGTH',
        'Must be 1024 or fewer in length.',
      ],
      [
        { embeds: [{ fields: [{ name: 'n', value: '' }] }] },
        ['embeds', '0', 'fields', '0', 'value'],
        'BASE_TYPE_REQUIRED',
        'This field is required',
      ],
      [
        { embeds: [{ footer: { text: long(2049) } }] },
        ['embeds', '0', 'footer', 'text'],
        'BASE_TYPE_MAX_LENGTH',
        'Must be 2048 or fewer in length.',
      ],
      [
        { embeds: [{ author: { name: long(257) } }] },
        ['embeds', '0', 'author', 'name'],
        'BASE_TYPE_MAX_LENGTH',
        'Must be 256 or fewer in length.',
      ],
      [
        { embeds: [{ title: 't', color: 0x1000000 }] },
        ['embeds', '0', 'color'],
        'NUMBER_TYPE_MAX',
        'int value should be less than or equal to 16777215.',
      ],
      [
        { embeds: [{ title: 't', color: -1 }] },
        ['embeds', '0', 'color'],
        'NUMBER_TYPE_MIN',
        'int value should be greater than or equal to 0.',
      ],
      [
        { embeds: [{ title: 't', color: '#ff0000' }] },
        ['embeds', '0', 'color'],
        'NUMBER_TYPE_COERCE',
        'Value "#ff0000" is not int.',
      ],
      [
        { embeds: [{ title: 't', timestamp: 'yesterday' }] },
        ['embeds', '0', 'timestamp'],
        'DATE_TYPE_PARSE',
        'Could not parse yesterday. Should be ISO8601.',
      ],
      [
        { embeds: [{ title: 't', url: 'not a url' }] },
        ['embeds', '0', 'url'],
        'URL_TYPE_INVALID_URL',
        'Not a well formed URL.',
      ],
      [
        { embeds: [{ title: 't', url: 'ftp://x.y' }] },
        ['embeds', '0', 'url'],
        'URL_TYPE_INVALID_SCHEME',
        `Scheme "ftp" is not supported. Scheme must be one of ('http', 'https').`,
      ],
      [{ embeds: { title: 't' } }, ['embeds'], 'LIST_TYPE_CONVERT', 'Only iterables may be used in a ListType'],
      [
        { content: 'x', allowed_mentions: { parse: ['all'] } },
        ['allowed_mentions', 'parse', '0'],
        'ENUM_TYPE_COERCE',
        'Value "all" is not a valid enum value.',
      ],
    ];
    for (const [body, path, code, message] of cases) {
      const answer = await execute(body);
      assert.equal(answer.status, 400, path.join('.'));
      assert.equal(answer.body.code, 50035);
      assert.equal(answer.body.message, 'Invalid Form Body');
      const node = path.reduce<unknown>((at, key) => (at as Record<string, unknown>)[key], answer.body.errors);
      assert.deepEqual(node, { _errors: [{ code, message }] }, path.join('.'));
    }
    assert.equal(discord.messages.length, 0);
  });

  test('all embeds of a message share 6000 characters', async () => {
    const full = (n: number) => ({ title: 'x'.repeat(256), description: 'y'.repeat(n) });
    // 2 × (256 + 2744) = 6000: at the limit.
    assert.equal((await execute({ embeds: [full(2744), full(2744)] })).status, 204);
    const over = await execute({ embeds: [full(2744), full(2745)] });
    assert.equal(over.status, 400);
    assert.deepEqual(over.body.errors, {
      embeds: { _errors: [{ code: 'MAX_EMBED_SIZE_EXCEEDED', message: 'Embed size exceeds maximum size of 6000' }] },
    });
    // Characters, not bytes or UTF-16 units, count.
    assert.equal((await execute({ content: '📈'.repeat(2000) })).status, 204);
  });

  test('every answer carries the bucket headers; past the bucket, 429 with retry_after and Retry-After', async () => {
    const limited = await startDiscordServer();
    try {
      const answers = [];
      for (let n = 0; n < 6; n++) answers.push(await execute({ content: `signal ${n}` }, limited.webhook.url));
      assert.deepEqual(
        answers.map((a) => [a.status, a.headers.get('x-ratelimit-remaining')]),
        [
          [204, '4'],
          [204, '3'],
          [204, '2'],
          [204, '1'],
          [204, '0'],
          [429, '0'],
        ],
      );
      for (const answer of answers) {
        assert.equal(answer.headers.get('x-ratelimit-limit'), '5');
        assert.match(answer.headers.get('x-ratelimit-bucket') ?? '', /^[0-9a-f]{32}$/);
        const resetAfter = Number(answer.headers.get('x-ratelimit-reset-after'));
        assert.ok(resetAfter > 0 && resetAfter <= 2, String(resetAfter));
        const reset = Number(answer.headers.get('x-ratelimit-reset'));
        assert.ok(Math.abs(reset - (Date.now() / 1000 + resetAfter)) < 1, String(reset));
      }
      const limitedAnswer = answers[5];
      const retryAfter = Number(limitedAnswer?.body.retry_after);
      assert.ok(retryAfter > 0 && retryAfter <= 2, String(retryAfter));
      assert.deepEqual(limitedAnswer?.body, {
        message: 'You are being rate limited.',
        retry_after: retryAfter,
        global: false,
      });
      assert.equal(limitedAnswer?.headers.get('retry-after'), String(Math.ceil(retryAfter)));
      assert.equal(limited.messages.length, 5);
    } finally {
      await limited.close();
    }
  });

  test('the per-channel limit answers a shared-scope 429', async () => {
    const limited = await startDiscordServer({ channelLimitPerMinute: 1 });
    try {
      assert.equal((await execute({ content: 'one' }, limited.webhook.url)).status, 204);
      const second = await execute({ content: 'two' }, limited.webhook.url);
      assert.equal(second.status, 429);
      assert.equal(second.headers.get('x-ratelimit-scope'), 'shared');
      assert.ok(Number(second.body.retry_after) > 59);
    } finally {
      await limited.close();
    }
  });

  test('failNext answers the next requests with a status: JSON for 500, Cloudflare’s page for 502', async () => {
    discord.failNext(1, 500);
    discord.failNext(1, 502);
    assert.deepEqual((await execute({ content: 'x' })).body, { message: '500: Internal Server Error', code: 0 });
    const gateway = await fetch(discord.webhook.url, { method: 'POST' });
    assert.equal(gateway.status, 502);
    assert.match(await gateway.text(), /<title>502 Bad Gateway<\/title>/);
    assert.equal((await execute({ content: 'x' })).status, 204);
    assert.equal(discord.messages.length, 1);
  });

  test('pause holds requests unanswered until resume', async () => {
    discord.pause();
    const pending = execute({ content: 'held' });
    assert.equal(await stillPending(pending, 100), true);
    discord.resume();
    assert.equal((await pending).status, 204);
  });

  test('down refuses connections; up listens again on the same port', async () => {
    const { port } = discord;
    await discord.down();
    await assertRefused(discord.webhook.url);
    await discord.up();
    assert.equal(discord.port, port);
    assert.equal((await execute({ content: 'back' })).status, 204);
  });

  test('waitFor resolves once its predicate holds, and rejects at its timeout', async () => {
    const arrived = discord.waitFor((messages) => messages.some((m) => m.embeds[0]?.title === 'late'), 2000);
    setTimeout(() => void execute({ embeds: [{ title: 'late' }] }), 20);
    await arrived;
    await assert.rejects(
      discord.waitFor((messages) => messages.length > 5, 50),
      /timed out after 50 ms/,
    );
  });
});
