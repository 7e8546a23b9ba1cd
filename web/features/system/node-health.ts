/**
 * Which nodes need a look. A node announces its head seq every 5 seconds, so the lag the
 * server reports (cluster head now minus the node's last announced head) is above 0 after
 * nearly every publish without anything being wrong. A node is flagged as behind only when it
 * announced a head lower than one the log had already reached over a second before the
 * announcement: the page remembers the cluster heads it read, with when it read them.
 * A node not heard from for more than one announcement round is flagged as quiet; one the
 * server stopped listing (unheard of for 15 s) stays on the page, flagged as gone.
 */
import type { SystemNode, SystemStatus } from '../../api/types.js';

/** More than one missed announcement (every 5 s), with room for a slow round. */
export const QUIET_AFTER_S = 8;
/** `seenSecondsAgo` is rounded to the second; a reading this much older than an announcement surely preceded it. */
const MARGIN_MS = 1_000;
/** Cluster heads older than this are of no use for judging announcements (made every 5 s). */
const KEEP_READINGS_MS = 60_000;

export type NodeFlag =
  | { kind: 'ok' }
  | { kind: 'behind'; behindSeq: number }
  | { kind: 'quiet'; seconds: number }
  | { kind: 'gone'; lastHeardAt: number };

export interface NodeRow {
  node: SystemNode;
  flag: NodeFlag;
  /** Client time (ms) the node last announced itself, as estimated from `seenSecondsAgo`. */
  heardAt: number;
}

export class NodeWatch {
  private readings: { at: number; headSeq: number }[] = [];
  private readonly known = new Map<string, { node: SystemNode; heardAt: number }>();
  private lastAt = -1;
  private rows: NodeRow[] = [];

  /** The rows for a snapshot received at `receivedAt` (client ms); the same snapshot twice gives the same rows. */
  update(status: Pick<SystemStatus, 'nodes' | 'headSeq'>, receivedAt: number): NodeRow[] {
    if (receivedAt === this.lastAt) return this.rows;
    this.lastAt = receivedAt;
    const listed = new Set<string>();
    const rows: NodeRow[] = [];
    for (const node of status.nodes) {
      listed.add(node.id);
      const heardAt = receivedAt - node.seenSecondsAgo * 1000;
      this.known.set(node.id, { node, heardAt });
      rows.push({ node, heardAt, flag: this.flagOf(node, heardAt) });
    }
    for (const [id, { node, heardAt }] of this.known) {
      if (!listed.has(id)) rows.push({ node, heardAt, flag: { kind: 'gone', lastHeardAt: heardAt } });
    }
    // Read after judging: this snapshot's head is no evidence against announcements it lists.
    this.readings.push({ at: receivedAt, headSeq: status.headSeq });
    this.readings = this.readings.filter((r) => receivedAt - r.at <= KEEP_READINGS_MS);
    this.rows = rows.sort((a, b) => (a.node.id < b.node.id ? -1 : a.node.id > b.node.id ? 1 : 0));
    return this.rows;
  }

  private flagOf(node: SystemNode, heardAt: number): NodeFlag {
    if (node.seenSecondsAgo > QUIET_AFTER_S) return { kind: 'quiet', seconds: node.seenSecondsAgo };
    let behindSeq = 0;
    for (const reading of this.readings) {
      if (reading.at + MARGIN_MS <= heardAt && reading.headSeq > node.headSeq) {
        behindSeq = Math.max(behindSeq, reading.headSeq);
      }
    }
    return behindSeq > 0 ? { kind: 'behind', behindSeq } : { kind: 'ok' };
  }
}
