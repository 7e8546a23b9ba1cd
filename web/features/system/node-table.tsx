/** Every node heard from while the page is open: its version, head, lag, connections, and a flag when it needs a look. */
import { formatCount, formatTime } from '../../components/format.js';
import { type NodeFlag, type NodeRow } from './node-health.js';

function flagText(flag: NodeFlag, headSeq: number): { label: string; detail: string } {
  switch (flag.kind) {
    case 'ok':
      return { label: 'in step', detail: 'Its head keeps up with the log.' };
    case 'behind':
      return {
        label: 'behind',
        detail: `It announced an older head after the log had reached seq ${formatCount(flag.behindSeq)} (now ${formatCount(headSeq)}).`,
      };
    case 'quiet':
      return { label: `silent ${flag.seconds} s`, detail: 'No announcement for more than one round (every 5 s).' };
    case 'gone':
      return {
        label: 'gone',
        detail: `Not heard from since ${formatTime(new Date(flag.lastHeardAt).toISOString())}; the server no longer lists it.`,
      };
  }
}

function heardText(row: NodeRow): string {
  if (row.flag.kind === 'gone') return `at ${formatTime(new Date(row.heardAt).toISOString())}`;
  const seconds = row.node.seenSecondsAgo;
  return seconds <= 0 ? 'just now' : `${seconds} s ago`;
}

export function NodeTable(props: { rows: readonly NodeRow[]; thisNode: string; headSeq: number }) {
  if (props.rows.length === 0) return <p className="muted">No node has announced itself yet.</p>;
  return (
    <div className="table-scroll">
      <table className="log system__nodes">
        <caption className="sr-only">
          Nodes, with their head seq, lag in events, connections and when last heard
        </caption>
        <thead>
          <tr>
            <th scope="col">Node</th>
            <th scope="col">Version</th>
            <th scope="col" className="num">
              Head seq
            </th>
            <th
              scope="col"
              className="num"
              title="The log head now minus the node's head when it last announced itself"
            >
              Lag (events)
            </th>
            <th scope="col" className="num">
              Connections
            </th>
            <th scope="col">Last heard</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((row) => {
            const { node, flag } = row;
            const text = flagText(flag, props.headSeq);
            return (
              <tr
                key={node.id}
                data-testid="node-row"
                data-node={node.id}
                data-flag={flag.kind}
                data-connections={node.connections}
                className={flag.kind === 'ok' ? undefined : 'system__node--flagged'}
              >
                <th scope="row">
                  <code>{node.id}</code>
                  {node.id === props.thisNode ? <span className="muted small"> (this node)</span> : null}
                </th>
                <td>{node.version}</td>
                <td className="num">{formatCount(node.headSeq)}</td>
                <td className="num">{flag.kind === 'gone' ? '—' : formatCount(node.lagEvents)}</td>
                <td className="num">{flag.kind === 'gone' ? '—' : formatCount(node.connections)}</td>
                <td className="nowrap">{heardText(row)}</td>
                <td>
                  <span className={`badge state system__flag system__flag--${flag.kind}`} title={text.detail}>
                    {text.label}
                  </span>
                  {flag.kind === 'ok' ? null : <span className="sr-only"> {text.detail}</span>}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
