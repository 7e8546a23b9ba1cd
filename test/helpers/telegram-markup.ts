/**
 * Telegram's text formatting, ported from TDLib (parse_html, parse_markdown_v2, parse_markdown and
 * fix_formatted_text), for the local Bot API in telegram-server.ts.
 *
 * Guarantees, as TDLib behaves for a bot's sendMessage:
 * - `parseMarkup` accepts and refuses the same text as Telegram for `parse_mode` HTML, MarkdownV2 and
 *   Markdown (any case), with Telegram's description after "can't parse entities: "; HTML is also held
 *   to the documented escaping rule when `strictHtml` (that refusal's wording is this port's own).
 *   An empty mode or `None` leaves the text as it is; any other mode is "unsupported parse_mode".
 * - `shownText` gives the text as the chat shows it, and the entities Telegram reports, offsets and
 *   lengths in UTF-16 code units; `null` when nothing visible is left.
 *
 * Not modelled: entities Telegram finds by itself (URLs, mentions, hashtags) and its merging of
 * touching same-style entities.
 */

/** A formatting entity as the Bot API reports it; offsets and lengths are in UTF-16 code units. */
export interface TelegramEntity {
  type: string;
  offset: number;
  length: number;
  url?: string;
  language?: string;
  custom_emoji_id?: string;
}

export type EntityType =
  | 'Bold'
  | 'Italic'
  | 'Underline'
  | 'Strikethrough'
  | 'Spoiler'
  | 'Code'
  | 'Pre'
  | 'PreCode'
  | 'TextUrl'
  | 'CustomEmoji'
  | 'BlockQuote'
  | 'ExpandableBlockQuote';

export interface Entity {
  type: EntityType;
  offset: number;
  length: number;
  argument: string;
}

/** Text with its markup taken out, and the entities the markup made. */
export interface FormattedText {
  text: string;
  entities: Entity[];
}

export type Parsed = FormattedText | { error: string };

/** `text` without its markup, or the description Telegram refuses it with. */
export function parseMarkup(text: string, parseMode: string, strictHtml: boolean): Parsed {
  const mode = parseMode.toLowerCase();
  if (mode === '' || mode === 'none') return { text, entities: [] };
  const parsed =
    mode === 'html'
      ? parseHtml(text, strictHtml)
      : mode === 'markdownv2'
        ? new MarkdownV2Parser(text).parse()
        : mode === 'markdown'
          ? parseMarkdown(text)
          : null;
  if (!parsed) return { error: 'unsupported parse_mode' };
  return 'error' in parsed ? { error: `can't parse entities: ${parsed.error}` } : parsed;
}

/** What the chat shows of a message: fix_formatted_text applied, entities as the Bot API reports them. */
export function shownText(parsed: FormattedText): { text: string; entities: TelegramEntity[] } | null {
  const shown = normalizeText(parsed);
  return shown === null ? null : { text: shown.text, entities: shown.entities.map(toBotApiEntity) };
}

// TDLib walks UTF-8 bytes and reports byte offsets; every character it acts on is ASCII, so walking
// UTF-16 code units visits the same decisions, and offsets are converted only for error messages.
const byteOffset = (text: string, index: number): number => Buffer.byteLength(text.slice(0, index));
// `''` is past the end, where TDLib reads the string's terminating NUL.
const isEnd = (c: string): boolean => c === '' || c === '\0';
const isSpace = (c: string): boolean => isEnd(c) || c === ' ' || c === '\t' || c === '\r' || c === '\n' || c === '\v';
const isAlpha = (c: string): boolean => /^[A-Za-z]$/.test(c);
const isAlnum = (c: string): boolean => /^[A-Za-z0-9]$/.test(c);
const isEscapable = (code: number): boolean => code > 0 && code <= 126;

const ENTITY_PRIORITY: Record<EntityType, number> = {
  BlockQuote: 0,
  ExpandableBlockQuote: 0,
  PreCode: 10,
  Pre: 11,
  Code: 20,
  TextUrl: 49,
  Bold: 90,
  Italic: 91,
  Underline: 92,
  Strikethrough: 93,
  Spoiler: 94,
  CustomEmoji: 99,
};

function sortEntities(entities: Entity[]): Entity[] {
  return entities.sort(
    (a, b) => a.offset - b.offset || b.length - a.length || ENTITY_PRIORITY[a.type] - ENTITY_PRIORITY[b.type],
  );
}

function toBotApiEntity(entity: Entity): TelegramEntity {
  const { offset, length, argument } = entity;
  switch (entity.type) {
    case 'Pre':
      return { type: 'pre', offset, length };
    case 'PreCode':
      return { type: 'pre', offset, length, language: argument };
    case 'TextUrl':
      return { type: 'text_link', offset, length, url: argument };
    case 'CustomEmoji':
      return { type: 'custom_emoji', offset, length, custom_emoji_id: argument };
    case 'BlockQuote':
      return { type: 'blockquote', offset, length };
    case 'ExpandableBlockQuote':
      return { type: 'expandable_blockquote', offset, length };
    default:
      return { type: entity.type.toLowerCase(), offset, length };
  }
}

/**
 * The link Telegram keeps for a text_link entity; null drops the entity, which is not an error. As in
 * TDLib: no spaces, web links need a dotted host, `http://` is added when there is no scheme and `/`
 * after a bare host; the rest stays as sent.
 */
function checkedLink(url: string): string | null {
  if (url === '' || /\s/.test(url)) return null;
  const link = /^[a-z][a-z0-9+.-]*:/i.test(url) ? url : `http://${url}`;
  let parsed: URL;
  try {
    parsed = new URL(link);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return ['tg:', 'ton:', 'tonsite:'].includes(parsed.protocol) ? link : null;
  }
  const parts = /^[^:]+:\/\/([^/?#]*)(.*)$/s.exec(link);
  if (!parts || !/\.[^.]+$/.test(parsed.hostname)) return null;
  const [, host = '', rest = ''] = parts;
  return `${parsed.protocol}//${host}${rest.startsWith('/') ? rest : `/${rest}`}`;
}

// --- HTML ---

const HTML_TAGS = new Set([
  'a',
  'b',
  'strong',
  'i',
  'em',
  's',
  'strike',
  'del',
  'u',
  'ins',
  'tg-spoiler',
  'tg-emoji',
  'span',
  'pre',
  'code',
  'blockquote',
]);
const HTML_NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };
const ATTRIBUTE_NAME_STOP = new Set(['=', '>', '/', '"', "'"]);

interface OpenTag {
  tag: string;
  argument: string;
  offset: number;
}

type Failure = { error: string };

function parseHtml(text: string, strict: boolean): Parsed {
  let result = '';
  let surrogate = false;
  const entities: Entity[] = [];
  const open: OpenTag[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (c === '&') {
      const decoded = decodeHtmlEntity(text, i);
      if (decoded) {
        surrogate ||= decoded.code >= 0xd800 && decoded.code <= 0xdfff;
        result += String.fromCodePoint(decoded.code);
        i = decoded.end - 1;
        continue;
      }
      if (strict) return mustEscape(text, i, '&amp;');
    }
    if (c !== '<') {
      if (strict && c === '>') return mustEscape(text, i, '&gt;');
      result += c;
      continue;
    }
    if (text.charAt(i + 1) !== '/') {
      const start = readStartTag(text, i);
      if ('error' in start) return start;
      open.push({ tag: start.tag, argument: start.argument, offset: result.length });
      i = start.end;
      continue;
    }
    const end = readEndTag(text, i, open.at(-1));
    if ('error' in end) return end;
    open.pop();
    const problem = closeHtmlEntity(end.tag, result, entities);
    if (problem) return problem;
    i = end.end;
  }
  const unclosed = open.at(-1);
  if (unclosed) return { error: `Can't find end tag corresponding to start tag "${unclosed.tag}"` };
  if (surrogate) {
    return {
      error:
        'Text contains invalid Unicode characters after decoding HTML entities, check for unmatched surrogate code units',
    };
  }
  for (const entity of entities) if (entity.type === 'Code') entity.argument = '';
  return { text: result, entities: sortEntities(entities) };
}

function mustEscape(text: string, index: number, escape: string): Failure {
  return {
    error: `Character "${text.charAt(index)}" at byte offset ${byteOffset(text, index)} must be replaced with "${escape}"`,
  };
}

/** `&lt;` `&gt;` `&amp;` `&quot;` and numeric references; the `;` is optional, as in TDLib. */
function decodeHtmlEntity(text: string, at: number): { code: number; end: number } | null {
  let end = at + 1;
  let code = 0;
  if (text.charAt(at + 1) === '#') {
    end++;
    const hex = text.charAt(at + 2) === 'x';
    if (hex) end++;
    const digit = hex ? /^[0-9A-Fa-f]$/ : /^[0-9]$/;
    while (digit.test(text.charAt(end))) code = code * (hex ? 16 : 10) + parseInt(text.charAt(end++), 16);
    if (code === 0 || code >= 0x10ffff || end - at >= 10) return null;
  } else {
    while (isAlpha(text.charAt(end))) end++;
    const named = HTML_NAMED[text.slice(at + 1, end)];
    if (named === undefined) return null;
    code = named.charCodeAt(0);
  }
  if (text.charAt(end) === ';') end++;
  return { code, end };
}

function readStartTag(text: string, begin: number): { tag: string; argument: string; end: number } | Failure {
  const at = byteOffset(text, begin);
  let i = begin + 1;
  while (!isSpace(text.charAt(i)) && text.charAt(i) !== '>') i++;
  if (isEnd(text.charAt(i))) return { error: `Unclosed start tag at byte offset ${at}` };
  const tag = text.slice(begin + 1, i).toLowerCase();
  if (!HTML_TAGS.has(tag)) return { error: `Unsupported start tag "${tag}" at byte offset ${at}` };

  let argument = '';
  while (text.charAt(i) !== '>') {
    while (!isEnd(text.charAt(i)) && isSpace(text.charAt(i))) i++;
    if (text.charAt(i) === '>') break;
    const nameStart = i;
    while (!isSpace(text.charAt(i)) && !ATTRIBUTE_NAME_STOP.has(text.charAt(i))) i++;
    const name = text.slice(nameStart, i);
    if (name === '') return { error: `Empty attribute name in the tag "${tag}" at byte offset ${at}` };
    while (!isEnd(text.charAt(i)) && isSpace(text.charAt(i))) i++;
    if (text.charAt(i) !== '=') {
      if (isEnd(text.charAt(i))) return { error: `Unclosed start tag "${tag}" at byte offset ${at}` };
      if (tag === 'blockquote' && name === 'expandable') argument = '1';
      continue;
    }
    i++;
    while (!isEnd(text.charAt(i)) && isSpace(text.charAt(i))) i++;
    if (isEnd(text.charAt(i))) return { error: `Unclosed start tag "${tag}" at byte offset ${at}` };
    const value = readAttributeValue(text, i);
    if ('error' in value) return value;
    i = value.end;
    if (isEnd(text.charAt(i))) return { error: `Unclosed start tag at byte offset ${at}` };
    argument = tagArgument(tag, name, value.value) ?? argument;
  }
  if (tag === 'span' && argument !== 'spoiler') {
    return { error: `Tag "span" must have class "tg-spoiler" at byte offset ${at}` };
  }
  return { tag, argument, end: i };
}

function readAttributeValue(text: string, begin: number): { value: string; end: number } | Failure {
  let i = begin;
  const quote = text.charAt(i);
  if (quote !== "'" && quote !== '"') {
    // An unquoted value is a name token, which HTML treats case-insensitively.
    while (isAlnum(text.charAt(i)) || text.charAt(i) === '.' || text.charAt(i) === '-') i++;
    if (!isSpace(text.charAt(i)) && text.charAt(i) !== '>') {
      return { error: `Unexpected end of name token at byte offset ${byteOffset(text, begin)}` };
    }
    return { value: text.slice(begin, i).toLowerCase(), end: i };
  }
  let value = '';
  i++;
  while (text.charAt(i) !== quote && !isEnd(text.charAt(i))) {
    const decoded = text.charAt(i) === '&' ? decodeHtmlEntity(text, i) : null;
    if (decoded) {
      value += String.fromCodePoint(decoded.code);
      i = decoded.end;
    } else {
      value += text.charAt(i++);
    }
  }
  if (text.charAt(i) === quote) i++;
  return { value, end: i };
}

function tagArgument(tag: string, attribute: string, value: string): string | undefined {
  if (tag === 'a' && attribute === 'href') return value;
  if (tag === 'code' && attribute === 'class' && value.startsWith('language-')) return value.slice(9);
  if (tag === 'span' && attribute === 'class' && value.startsWith('tg-')) return value.slice(3);
  if (tag === 'tg-emoji' && attribute === 'emoji-id') return value;
  if (tag === 'blockquote' && attribute === 'expandable') return '1';
  return undefined;
}

function readEndTag(text: string, begin: number, top: OpenTag | undefined): { tag: OpenTag; end: number } | Failure {
  const at = byteOffset(text, begin);
  if (!top) return { error: `Unexpected end tag at byte offset ${at}` };
  let i = begin + 1;
  while (!isSpace(text.charAt(i)) && text.charAt(i) !== '>') i++;
  const name = text.slice(begin + 2, i).toLowerCase();
  while (isSpace(text.charAt(i)) && !isEnd(text.charAt(i))) i++;
  if (text.charAt(i) !== '>') return { error: `Unclosed end tag at byte offset ${at}` };
  if (name !== '' && name !== top.tag) {
    return { error: `Unmatched end tag at byte offset ${at}, expected "</${top.tag}>", found "</${name}>"` };
  }
  return { tag: top, end: i };
}

const STYLE_TAGS: Record<string, EntityType> = {
  i: 'Italic',
  em: 'Italic',
  b: 'Bold',
  strong: 'Bold',
  s: 'Strikethrough',
  strike: 'Strikethrough',
  del: 'Strikethrough',
  u: 'Underline',
  ins: 'Underline',
  'tg-spoiler': 'Spoiler',
  // readStartTag let a span through only with class="tg-spoiler".
  span: 'Spoiler',
};

function closeHtmlEntity(open: OpenTag, result: string, entities: Entity[]): Failure | null {
  const { tag, offset, argument } = open;
  const length = result.length - offset;
  // An element with no text makes no entity, and is not an error.
  if (length <= 0) return null;
  const add = (type: EntityType, value = ''): void => {
    entities.push({ type, offset, length, argument: value });
  };
  const style = STYLE_TAGS[tag];
  if (style) {
    add(style);
  } else if (tag === 'tg-emoji') {
    if (!isCustomEmojiId(argument)) return { error: 'Invalid custom emoji identifier specified' };
    add('CustomEmoji', argument);
  } else if (tag === 'a') {
    const url = checkedLink(argument === '' ? result.slice(offset) : argument);
    if (url !== null) add('TextUrl', url);
  } else if (tag === 'pre' || tag === 'code') {
    closeCodeBlock(tag, open, length, entities);
  } else {
    add(argument === '' ? 'BlockQuote' : 'ExpandableBlockQuote');
  }
  return null;
}

/** `<pre><code class="language-x">…</code></pre>` is one pre entity with a language, whichever closes first. */
function closeCodeBlock(tag: 'pre' | 'code', open: OpenTag, length: number, entities: Entity[]): void {
  const last = entities.at(-1);
  const sameSpan = last !== undefined && last.offset === open.offset && last.length === length;
  if (tag === 'pre' && sameSpan && last.type === 'Code' && last.argument !== '') {
    last.type = 'PreCode';
  } else if (tag === 'code' && sameSpan && last.type === 'Pre' && open.argument !== '') {
    last.type = 'PreCode';
    last.argument = open.argument;
  } else {
    entities.push({
      type: tag === 'pre' ? 'Pre' : 'Code',
      offset: open.offset,
      length,
      argument: tag === 'pre' ? '' : open.argument,
    });
  }
}

/** TDLib's get_link_custom_emoji_id: `tg://emoji?id=<id>`, scheme and host in any case. */
function customEmojiLinkId(url: string): { id: string } | Failure {
  const match = /^([a-z][a-z0-9+.-]*):(?:\/\/)?([^/?#]*)\/?(\?[^#]*)?/i.exec(url);
  if (match?.[1]?.toLowerCase() !== 'tg') return { error: 'Custom emoji URL must have scheme tg' };
  if (match[2]?.toLowerCase() !== 'emoji') return { error: 'Custom emoji URL must have host "emoji"' };
  const id = new URLSearchParams(match[3] ?? '').get('id');
  if (id === null) return { error: 'Custom emoji URL must have an emoji identifier' };
  if (!/^[1-9]\d*$/.test(id) || !isCustomEmojiId(id)) return { error: 'Invalid custom emoji identifier specified' };
  return { id };
}

function isCustomEmojiId(id: string): boolean {
  if (!/^-?\d{1,19}$/.test(id)) return false;
  const value = BigInt(id);
  return value !== 0n && value <= 9_223_372_036_854_775_807n && value >= -9_223_372_036_854_775_808n;
}

// --- Markdown ---

/** After ``` a language name may follow; then one line break is dropped. Shared by both Markdown flavours. */
function readPreStart(text: string, begin: number): { language: string; next: number } {
  let end = begin;
  while (!isSpace(text.charAt(end)) && text.charAt(end) !== '`') end++;
  let language = '';
  let i = begin;
  if (end !== begin && end < text.length && text.charAt(end) !== '`') {
    language = text.slice(begin, end);
    i = end;
  }
  const c = text.charAt(i);
  if (c === '\n' || c === '\r') {
    const next = text.charAt(i + 1);
    i += (next === '\n' || next === '\r') && next !== c ? 2 : 1;
  }
  return { language, next: i };
}

const MARKDOWN_MARKERS = new Set(['_', '*', '`', '[']);

/** The legacy `Markdown` mode: no nesting, and only the four markers can be escaped. */
function parseMarkdown(text: string): Parsed {
  let result = '';
  const entities: Entity[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (c === '\\' && MARKDOWN_MARKERS.has(text.charAt(i + 1))) {
      result += text.charAt(++i);
      continue;
    }
    if (!MARKDOWN_MARKERS.has(c)) {
      result += c;
      continue;
    }
    const begin = i;
    const endCharacter = c === '[' ? ']' : c;
    let pre: { language: string } | null = null;
    i++;
    if (c === '`' && text.charAt(i) === '`' && text.charAt(i + 1) === '`') {
      const start = readPreStart(text, i + 2);
      pre = start;
      i = start.next;
    }
    const offset = result.length;
    // Inside ``` a single backtick is text; only ``` ends it.
    const notPreEnd = (): boolean => pre !== null && !(text.charAt(i + 1) === '`' && text.charAt(i + 2) === '`');
    while (i < text.length && (text.charAt(i) !== endCharacter || notPreEnd())) result += text.charAt(i++);
    if (i === text.length) {
      return { error: `Can't find end of the entity starting at byte offset ${byteOffset(text, begin)}` };
    }
    const length = result.length - offset;
    if (length > 0) {
      const entity = markdownEntity(c, pre, text, begin, i);
      i = entity.next;
      if (entity.type) entities.push({ type: entity.type, offset, length, argument: entity.argument });
    }
    if (pre) i += 2;
  }
  return { text: result, entities: sortEntities(entities) };
}

function markdownEntity(
  marker: string,
  pre: { language: string } | null,
  text: string,
  begin: number,
  end: number,
): { type: EntityType | null; argument: string; next: number } {
  if (marker === '_') return { type: 'Italic', argument: '', next: end };
  if (marker === '*') return { type: 'Bold', argument: '', next: end };
  if (marker === '`' && !pre) return { type: 'Code', argument: '', next: end };
  if (pre) return { type: pre.language ? 'PreCode' : 'Pre', argument: pre.language, next: end };
  let url = text.slice(begin + 1, end);
  let next = end;
  if (text.charAt(end + 1) === '(') {
    next = end + 2;
    url = '';
    while (next < text.length && text.charAt(next) !== ')') url += text.charAt(next++);
  }
  const link = checkedLink(url);
  return { type: link === null ? null : 'TextUrl', argument: link ?? '', next };
}

interface OpenMarkdownEntity {
  type: EntityType;
  argument: string;
  offset: number;
  start: number;
}

const V2_RESERVED = new Set([...'_*[]()~`>#+-=|{}.!\n']);
const CODE_RESERVED = new Set(['`']);
const CODE_TYPES = new Set<EntityType>(['Code', 'Pre', 'PreCode']);

/** `MarkdownV2`: nested entities, and every reserved character outside them must be escaped. */
class MarkdownV2Parser {
  private i = 0;
  private result = '';
  private blockquote = false;
  // A `>` opens a quote only where a line starts, `\r` and markup aside.
  private lineStart = true;
  private readonly entities: Entity[] = [];
  private readonly open: OpenMarkdownEntity[] = [];

  constructor(private readonly text: string) {}

  parse(): Parsed {
    for (this.i = 0; this.i < this.text.length; this.i++) {
      const error = this.step();
      if (error !== null) return { error };
    }
    return this.finish();
  }

  private at(ahead = 0): string {
    return this.text.charAt(this.i + ahead);
  }

  private step(): string | null {
    const c = this.at();
    if (c === '\\' && isEscapable(this.text.charCodeAt(this.i + 1))) {
      const escaped = this.text.charAt(++this.i);
      this.result += escaped;
      if (escaped !== '\r') this.lineStart = escaped === '\n';
      return null;
    }
    const top = this.open.at(-1);
    const reserved = top && CODE_TYPES.has(top.type) ? CODE_RESERVED : V2_RESERVED;
    if (!reserved.has(c)) {
      this.result += c;
      if (c !== '\r') this.lineStart = false;
      return null;
    }
    return top && this.ends(top.type) ? this.end(top) : this.begin();
  }

  private ends(type: EntityType): boolean {
    const [c, next, after] = [this.at(), this.at(1), this.at(2)];
    if (this.blockquote && c === '\n' && next !== '>') return true;
    switch (type) {
      case 'Bold':
        return c === '*';
      case 'Italic':
        return c === '_' && next !== '_';
      case 'Code':
        return c === '`';
      case 'Pre':
      case 'PreCode':
        return c === '`' && next === '`' && after === '`';
      case 'TextUrl':
      case 'CustomEmoji':
        return c === ']';
      case 'Underline':
        return c === '_' && next === '_';
      case 'Strikethrough':
        return c === '~';
      case 'Spoiler':
        return c === '|' && next === '|';
      default:
        return false;
    }
  }

  private reserved(): string {
    return `Character '${this.at()}' is reserved and must be escaped with the preceding '\\'`;
  }

  private begin(): string | null {
    const start = this.i;
    let type: EntityType;
    let argument = '';
    switch (this.at()) {
      case '_':
        type = 'Italic';
        if (this.at(1) === '_') {
          this.i++;
          type = 'Underline';
        }
        break;
      case '*':
        type = 'Bold';
        break;
      case '~':
        type = 'Strikethrough';
        break;
      case '|':
        if (this.at(1) !== '|') return this.reserved();
        this.i++;
        type = 'Spoiler';
        break;
      case '[':
        type = 'TextUrl';
        break;
      case '`':
        if (this.at(1) === '`' && this.at(2) === '`') {
          const pre = readPreStart(this.text, this.i + 3);
          [type, argument] = pre.language ? ['PreCode', pre.language] : ['Pre', ''];
          this.i = pre.next - 1;
        } else {
          type = 'Code';
        }
        break;
      case '!':
        if (this.at(1) !== '[') return this.reserved();
        this.i++;
        type = 'CustomEmoji';
        break;
      case '\n':
        this.result += '\n';
        this.lineStart = true;
        return null;
      case '>':
        if (!this.lineStart) return this.reserved();
        // Each line of a quote starts with `>`; only the first opens it.
        if (this.blockquote) return null;
        this.blockquote = true;
        type = 'BlockQuote';
        break;
      default:
        return this.reserved();
    }
    this.open.push({ type, argument, offset: this.result.length, start });
    return null;
  }

  private end(closing: OpenMarkdownEntity): string | null {
    let top = closing;
    let type = top.type;
    if (this.at() === '\n' && type !== 'BlockQuote') {
      // `||` right before the line break that ends a quote makes it expandable.
      if (!this.endsExpandableQuote(top)) return this.unclosed(top);
      this.open.pop();
      const quote = this.open.at(-1);
      if (!quote) return this.unclosed(top);
      if (quote.type !== 'BlockQuote') return this.unclosed(quote);
      top = quote;
      type = 'ExpandableBlockQuote';
    }
    let argument = top.argument;
    let skip = this.result.length === top.offset;
    switch (type) {
      case 'Underline':
      case 'Spoiler':
        this.i++;
        break;
      case 'Pre':
      case 'PreCode':
        this.i += 2;
        break;
      case 'TextUrl': {
        const url = this.at(1) === '(' ? this.readParenthesized('a URL') : { value: this.result.slice(top.offset) };
        if ('error' in url) return url.error;
        const link = checkedLink(url.value);
        if (link === null) skip = true;
        else argument = link;
        break;
      }
      case 'CustomEmoji': {
        if (this.at(1) !== '(') return 'Custom emoji entity must contain a tg://emoji URL';
        const url = this.readParenthesized('a custom emoji URL');
        if ('error' in url) return url.error;
        const id = customEmojiLinkId(url.value);
        if ('error' in id) return id.error;
        argument = id.id;
        break;
      }
      case 'BlockQuote':
      case 'ExpandableBlockQuote':
        // The line break that ends a quote belongs to it, and a quote is kept even when empty.
        this.blockquote = false;
        this.lineStart = true;
        this.result += this.at();
        skip = false;
        break;
    }
    if (!skip) this.entities.push({ type, offset: top.offset, length: this.result.length - top.offset, argument });
    this.open.pop();
    return null;
  }

  /** A spoiler opened by the `||` just before this line break (a `\r` may sit between). */
  private endsExpandableQuote(top: OpenMarkdownEntity): boolean {
    if (top.type !== 'Spoiler') return false;
    return top.start === this.i - 2 || (top.start === this.i - 3 && this.result.endsWith('\r'));
  }

  /** `(…)` after `]`, with `\` escapes; leaves `i` on the `)`. */
  private readParenthesized(what: string): { value: string } | { error: string } {
    this.i += 2;
    const begin = this.i;
    let value = '';
    while (this.i < this.text.length && this.at() !== ')') {
      if (this.at() === '\\' && isEscapable(this.text.charCodeAt(this.i + 1))) {
        value += this.at(1);
        this.i += 2;
        continue;
      }
      value += this.text.charAt(this.i++);
    }
    if (this.at() !== ')') return { error: `Can't find end of ${what} at byte offset ${byteOffset(this.text, begin)}` };
    return { value };
  }

  private unclosed(entity: OpenMarkdownEntity): string {
    return `Can't find end of ${entity.type} entity at byte offset ${byteOffset(this.text, entity.start)}`;
  }

  private finish(): Parsed {
    let type: EntityType = 'BlockQuote';
    const last = this.open.at(-1);
    if (this.blockquote && last?.type === 'Spoiler' && last.start === this.text.length - 2) {
      this.open.pop();
      type = 'ExpandableBlockQuote';
    }
    const quote = this.open.at(-1);
    if (this.blockquote && quote?.type === 'BlockQuote') {
      const length = this.result.length - quote.offset;
      if (length > 0) this.entities.push({ type, offset: quote.offset, length, argument: '' });
      this.open.pop();
    }
    const top = this.open.at(-1);
    if (top) return { error: this.unclosed(top) };
    return { text: this.result, entities: sortEntities(this.entities) };
  }
}

// --- What the chat shows ---

// U+2028–U+202E (line/paragraph separators, direction marks) and three combining marks that stack lines.
const DROPPED = new Set([0x2028, 0x2029, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x0333, 0x033f, 0x030a]);

/**
 * TDLib's fix_formatted_text as a bot's message goes through it: control characters become spaces,
 * `\r` and a few invisible marks go, trailing spaces and newlines go, and leading ones up to the first
 * entity; entities left empty go. Null when nothing but spaces and newlines is left.
 */
function normalizeText(parsed: FormattedText): FormattedText | null {
  const { text, mapped } = cleanText(parsed.text);
  const visibleEnd = lastVisible(text) + 1;
  if (visibleEnd === 0) return null;
  const at = (index: number): number => mapped[index] ?? text.length;
  const entities = parsed.entities
    .map((e) => ({ ...e, offset: at(e.offset), length: at(e.offset + e.length) - at(e.offset) }))
    .filter((e) => e.length > 0 && e.offset < visibleEnd)
    .map((e) => ({ ...e, length: Math.min(e.offset + e.length, visibleEnd) - e.offset }));
  const kept = text.slice(0, visibleEnd);

  const firstEntity = entities[0]?.offset ?? kept.length;
  let lead = 0;
  while (lead < firstEntity && (kept.charAt(lead) === ' ' || kept.charAt(lead) === '\n')) lead++;
  return { text: kept.slice(lead), entities: entities.map((e) => ({ ...e, offset: e.offset - lead })) };
}

/** The cleaned text, and where each old UTF-16 index landed in it (one more entry for the end). */
function cleanText(text: string): { text: string; mapped: number[] } {
  const mapped: number[] = [];
  let out = '';
  for (let i = 0; i < text.length; i++) {
    mapped.push(out.length);
    const code = text.charCodeAt(i);
    if (code === 13 || DROPPED.has(code)) continue;
    out += code <= 32 && code !== 10 ? ' ' : text.charAt(i);
  }
  mapped.push(out.length);
  return { text: out, mapped };
}

function lastVisible(text: string): number {
  let i = text.length - 1;
  while (i >= 0 && (text.charAt(i) === ' ' || text.charAt(i) === '\n')) i--;
  return i;
}
