/** Per channel: verified or broken (naming the first bad event), and whether the signed head matched. */
import type { ChannelChain } from './chain-check.js';
import type { ChainWatchState } from './use-chain-watch.js';

function SignedNote(props: { chain: ChannelChain }) {
  const { signed } = props.chain;
  if (!signed) return null;
  const when = new Date(signed.signedAt).toLocaleString();
  switch (signed.state) {
    case 'matches':
      return (
        <span className="chain__signed">
          · matches the head the server signed at seq {signed.seq} ({when})
        </span>
      );
    case 'pending':
      return <span className="chain__signed">· signed head at seq {signed.seq} not reached yet</span>;
    case 'invalid':
      return (
        <span className="chain__signed chain__signed--bad">· the server's signature on its head does not verify</span>
      );
  }
}

export function ChainBadges(props: { watch: ChainWatchState; channelNames: ReadonlyMap<string, string> }) {
  const { chains, loading, error } = props.watch;
  if (error) return <p className="notice notice--error">Could not check the history: {error}</p>;
  if (chains.length === 0) {
    return <p className="muted">{loading ? 'Checking the history…' : 'No events yet.'}</p>;
  }
  return (
    <ul className="chain" aria-live="polite">
      {chains.map((chain) => (
        <li
          key={chain.channel}
          className={`chain__item chain__item--${chain.state}`}
          data-testid="chain-badge"
          data-channel={chain.channel}
          data-state={loading && chain.state === 'verified' ? 'checking' : chain.state}
          data-count={chain.count}
          data-signed={chain.signed?.state ?? 'none'}
          data-bad-seq={chain.problem?.seq}
        >
          <span className={`badge chain__badge chain__badge--${chain.state}`}>
            {chain.state === 'broken' ? '✗ Broken' : loading ? '… Checking' : '✓ Verified'}
          </span>
          <strong>{props.channelNames.get(chain.channel) ?? chain.channel}</strong>
          {chain.problem ? (
            <span>
              first bad event: seq {chain.problem.seq} <code>{chain.problem.id}</code> — {chain.problem.reason}
            </span>
          ) : (
            <span className="muted">
              {chain.count} events, up to seq {chain.seq} <SignedNote chain={chain} />
            </span>
          )}
        </li>
      ))}
    </ul>
  );
}
