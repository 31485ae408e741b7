// The live dry run: which pods, on which nodes, the strategy in the form would match
// right now (POST /api/v1/strategies/preview), refreshed shortly after each change.
import { useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { previewStrategy } from '../api/endpoints';
import { ApiError, messageOf } from '../api/errors';
import type { StrategyInput, StrategyPreview } from '../api/types';
import { paths } from '../routes';
import { Empty, ErrorNote } from './Status';

interface Props {
  input: StrategyInput | null;
  onServerErrors?: (fields: Record<string, string>) => void;
}

export function PreviewPanel({ input, onServerErrors }: Props) {
  const [preview, setPreview] = useState<StrategyPreview | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const key = input ? JSON.stringify(input) : '';

  useEffect(() => {
    if (!input) {
      setPreview(null);
      return;
    }
    let cancelled = false;
    setLoading(true);
    const t = setTimeout(async () => {
      try {
        const p = await previewStrategy(input);
        if (cancelled) return;
        setPreview(p);
        setError(null);
        onServerErrors?.({});
      } catch (e) {
        if (cancelled) return;
        setPreview(null);
        setError(messageOf(e));
        if (e instanceof ApiError) onServerErrors?.(e.fieldErrors);
      } finally {
        if (!cancelled) setLoading(false);
      }
    }, 300);
    return () => {
      cancelled = true;
      clearTimeout(t);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);

  return (
    <aside className="card preview" aria-labelledby="preview-title" aria-live="polite" aria-busy={loading}>
      <h2 id="preview-title">Would match now</h2>
      {!input && <p className="muted">Complete the form to see which pods it matches.</p>}
      {input && loading && !preview && <p className="muted">Checking…</p>}
      <ErrorNote message={error} />
      {input && preview && (
        <>
          <p className="preview-summary">
            <strong>{preview.podCount}</strong> {preview.podCount === 1 ? 'pod' : 'pods'} on{' '}
            <strong>{preview.nodes.length}</strong> {preview.nodes.length === 1 ? 'node' : 'nodes'}
            {loading && <span className="muted"> (updating…)</span>}
          </p>
          {preview.podCount === 0 ? (
            <Empty>No running pod matches yet. The strategy still applies to pods that appear later.</Empty>
          ) : (
            <>
              <ul className="chips" aria-label="Nodes">
                {preview.nodes.map((n) => (
                  <li key={n.name}>{n.name} <span className="muted">× {n.podCount}</span></li>
                ))}
              </ul>
              <table className="compact">
                <caption className="sr-only">Matched pods</caption>
                <thead><tr><th scope="col">Pod</th><th scope="col">Namespace</th><th scope="col">Node</th></tr></thead>
                <tbody>
                  {preview.pods.map((p) => (
                    <tr key={p.podId}>
                      <td><Link to={paths.pod(p.podId)}>{p.podName}</Link></td>
                      <td>{p.namespace}</td>
                      <td>{p.nodeName}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
        </>
      )}
    </aside>
  );
}
