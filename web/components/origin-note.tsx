/**
 * Where a mirrored signal first appeared. A channel that receives another's signals after a
 * delay (free after VIP) publishes each as a new event of its own naming the original, so
 * its subscribers are told when and where it was first published: a late copy must never
 * read as a fresh call.
 */
import type { EventOrigin } from '../../shared/events.js';
import { formatDateTime, formatDuration } from './format.js';

/** "24 h", or "moments" for a release within the second. */
function delayOf(origin: EventOrigin, releasedAt: string): string {
  const ms = Date.parse(releasedAt) - Date.parse(origin.createdAt);
  return ms < 500 ? 'moments' : formatDuration(ms);
}

/** One line for the feed: "First published 24 h earlier in #vip". */
export function originSummary(origin: EventOrigin, releasedAt: string): string {
  return `First published ${delayOf(origin, releasedAt)} earlier in #${origin.channel}`;
}

/** The feed's short form, with the first publication's exact time on hover. */
export function OriginLine(props: { origin: EventOrigin; releasedAt: string }) {
  const { origin } = props;
  return (
    <span className="origin-line" data-testid="origin">
      First published{' '}
      <time dateTime={origin.createdAt} title={formatDateTime(origin.createdAt)}>
        {delayOf(origin, props.releasedAt)} earlier
      </time>{' '}
      in #{origin.channel}
    </span>
  );
}

/** The signal page's full form: the exact time, the delay, and which event it copies. */
export function OriginNotice(props: { origin: EventOrigin; releasedAt: string; channel: string }) {
  const { origin } = props;
  return (
    <p className="notice origin-notice" data-testid="origin">
      First published <time dateTime={origin.createdAt}>{formatDateTime(origin.createdAt)}</time> in #{origin.channel},
      released in #{props.channel} {delayOf(origin, props.releasedAt)} later as an event of its own that names the
      original (seq {origin.seq}, <code title={origin.hash}>{origin.hash.slice(0, 10)}</code>).
    </p>
  );
}
