// The intent-state view: every state in words (not colour alone), failures with their
// reason, counts per state, grouping by strategy and by node.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render, screen, within } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import type { Intent } from '../api/types';
import { IntentTable, StateBadge, StateCounts, countStates, stateOf } from './IntentStates';

afterEach(cleanup);

function intent(id: string, patch: Partial<Intent>): Intent {
  return {
    id, strategyID: 's1', podID: `uid-${id}`, podName: `pod-${id}`, nodeID: 'node-a',
    k8sNamespace: 'default', priority: 10, executionTime: 0, state: 1, ...patch,
  };
}

const intents: Intent[] = [
  intent('1', { state: 3, stateName: 'Applied' }),
  intent('2', { state: 5, stateName: 'Failed', stateReason: 'pod cgroup not found on node', nodeID: 'node-b' }),
  intent('3', { state: 4, stateName: 'Waiting', strategyID: 's2' }),
  intent('4', { state: 2 }),           // no stateName: from the number
  intent('5', { state: 1, nodeID: 'node-b', strategyID: 's2' }),
];

describe('intent states', () => {
  it('names states from stateName, else from the upstream number', () => {
    expect(intents.map(stateOf)).toEqual(['Applied', 'Failed', 'Waiting', 'Sent', 'Initialized']);
    expect(stateOf({ state: 42 })).toBe('Unknown');
  });

  it('counts states', () => {
    expect(countStates(intents)).toEqual({ Applied: 1, Failed: 1, Waiting: 1, Sent: 1, Initialized: 1 });
    render(<StateCounts intents={[intents[0], intents[0], intents[1]]} />);
    expect(screen.getByText('2 Applied')).toBeTruthy();
    expect(screen.getByText('1 Failed')).toBeTruthy();
  });

  it('shows a badge with the state in words and its meaning', () => {
    render(<StateBadge intent={intents[2]} />);
    const b = screen.getByText('Waiting');
    expect(b.getAttribute('title')).toBe('applied; no matching process yet');
    expect(b.className).toContain('state-waiting');
  });

  it('groups by strategy with each failure\'s reason on its row', () => {
    render(
      <MemoryRouter>
        <IntentTable intents={intents} groupBy="strategy" strategyLabel={(id) => (id === 's1' ? 'app=prometheus' : 'app=nginx')} />
      </MemoryRouter>,
    );
    const s1 = screen.getByRole('region', { name: 'Strategy app=prometheus' });
    const s2 = screen.getByRole('region', { name: 'Strategy app=nginx' });
    expect(within(s1).getAllByRole('row')).toHaveLength(4); // header + 3 intents
    expect(within(s2).getAllByRole('row')).toHaveLength(3);
    const failed = within(s1).getByText('pod-2').closest('tr')!;
    expect(within(failed).getByText('Failed')).toBeTruthy();
    expect(within(failed).getByText('pod cgroup not found on node')).toBeTruthy();
    expect(within(s1).getByRole('link', { name: 'pod-1' }).getAttribute('href')).toBe('/pods/uid-1');
  });

  it('groups by node', () => {
    render(
      <MemoryRouter>
        <IntentTable intents={intents} groupBy="node" />
      </MemoryRouter>,
    );
    const a = screen.getByRole('region', { name: 'Node node-a' });
    const b = screen.getByRole('region', { name: 'Node node-b' });
    expect(within(a).getAllByRole('row')).toHaveLength(4);
    expect(within(b).getAllByRole('row')).toHaveLength(3);
  });

  it('says so when there are no intents', () => {
    render(<MemoryRouter><IntentTable intents={[]} groupBy="node" /></MemoryRouter>);
    expect(screen.getByText(/No intents/)).toBeTruthy();
  });
});
