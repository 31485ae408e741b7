// How intent states look: a badge per state (text, not colour alone), counts per
// state, and the table of intents grouped by strategy or by node, with the reason of
// every failure next to it.
import { Link } from 'react-router-dom';
import type { Intent } from '../api/types';
import { formatTime } from '../format';
import { paths } from '../routes';
import { Empty } from './Status';

// Upstream numbering (coordinator/domain/types.h IntentState).
const NAMES = ['Unknown', 'Initialized', 'Sent', 'Applied', 'Waiting', 'Failed'] as const;
export type StateName = (typeof NAMES)[number];
export const STATE_ORDER: StateName[] = ['Failed', 'Waiting', 'Sent', 'Initialized', 'Applied', 'Unknown'];

const MEANING: Record<StateName, string> = {
  Unknown: 'state not known',
  Initialized: 'planned, not yet sent to the node',
  Sent: 'sent to the node, waiting for its answer',
  Applied: 'in effect on the node',
  Waiting: 'applied; no matching process yet',
  Failed: 'the node could not apply it',
};

export function stateOf(i: Pick<Intent, 'state' | 'stateName'>): StateName {
  if (i.stateName && (NAMES as readonly string[]).includes(i.stateName)) return i.stateName as StateName;
  return NAMES[i.state] ?? 'Unknown';
}

export function StateBadge({ intent }: { intent: Pick<Intent, 'state' | 'stateName' | 'stateReason'> }) {
  const s = stateOf(intent);
  return (
    <span className={`badge state-${s.toLowerCase()}`} title={MEANING[s]}>
      {s}
    </span>
  );
}

export function countStates(intents: Intent[]): Partial<Record<StateName, number>> {
  const out: Partial<Record<StateName, number>> = {};
  for (const i of intents) {
    const s = stateOf(i);
    out[s] = (out[s] ?? 0) + 1;
  }
  return out;
}

export function StateCounts({ intents }: { intents: Intent[] }) {
  const counts = countStates(intents);
  if (intents.length === 0) return <span className="muted">none</span>;
  return (
    <span className="counts">
      {STATE_ORDER.filter((s) => counts[s]).map((s) => (
        <span key={s} className={`badge state-${s.toLowerCase()}`}>
          {counts[s]} {s}
        </span>
      ))}
    </span>
  );
}

export type Grouping = 'strategy' | 'node';

interface TableProps {
  intents: Intent[];
  groupBy: Grouping;
  strategyLabel?: (id: string) => string;
  podLinks?: boolean;
}

export function IntentTable({ intents, groupBy, strategyLabel = (id) => id, podLinks = true }: TableProps) {
  if (intents.length === 0) return <Empty>No intents. Intents appear when a strategy matches running pods.</Empty>;
  const groups = new Map<string, Intent[]>();
  for (const i of intents) {
    const k = groupBy === 'strategy' ? i.strategyID : i.nodeID || '(no node)';
    groups.set(k, [...(groups.get(k) ?? []), i]);
  }
  return (
    <>
      {[...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, list]) => (
        <section className="group" key={k} aria-label={groupBy === 'strategy' ? `Strategy ${strategyLabel(k)}` : `Node ${k}`}>
          <h2>
            {groupBy === 'strategy' ? <>Strategy <span className="mono">{strategyLabel(k)}</span></> : <>Node {k}</>}{' '}
            <StateCounts intents={list} />
          </h2>
          <div className="table-wrap">
            <table className="stack">
              <thead>
                <tr>
                  <th scope="col">Pod</th>
                  <th scope="col">Namespace</th>
                  <th scope="col">{groupBy === 'strategy' ? 'Node' : 'Strategy'}</th>
                  <th scope="col">State</th>
                  <th scope="col">Reason</th>
                  <th scope="col">Since</th>
                </tr>
              </thead>
              <tbody>
                {list.map((i) => (
                  <tr key={i.id} data-intent-state={stateOf(i)}>
                    <td data-label="Pod">{podLinks ? <Link to={paths.pod(i.podID)}>{i.podName || i.podID}</Link> : i.podName || i.podID}</td>
                    <td data-label="Namespace">{i.k8sNamespace}</td>
                    <td data-label={groupBy === 'strategy' ? 'Node' : 'Strategy'}>{groupBy === 'strategy' ? i.nodeID || '—' : <span className="mono">{strategyLabel(i.strategyID)}</span>}</td>
                    <td data-label="State"><StateBadge intent={i} /></td>
                    <td className="reason" data-label="Reason">{i.stateReason || (stateOf(i) === 'Failed' ? 'no reason given' : '')}</td>
                    <td data-label="Since">{formatTime(i.updatedTime)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      ))}
    </>
  );
}
