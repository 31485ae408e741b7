// /strategies/new and /strategies/:id/edit: the form beside its live preview.
import { useEffect, useState } from 'react';
import { useNavigate, useParams } from 'react-router-dom';
import { createStrategy, listStrategies, updateStrategy } from '../api/endpoints';
import { ApiError, messageOf } from '../api/errors';
import type { Strategy, StrategyInput } from '../api/types';
import { useSession } from '../auth/session';
import { PreviewPanel } from '../components/PreviewPanel';
import { ErrorNote, Loading } from '../components/Status';
import { StrategyForm, draftFromStrategy, emptyDraft } from '../components/StrategyForm';
import { paths, perm } from '../routes';

export function StrategyEditView() {
  const { id } = useParams();
  const navigate = useNavigate();
  const { can } = useSession();
  const [existing, setExisting] = useState<Strategy | null | undefined>(id ? undefined : null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [live, setLive] = useState<StrategyInput | null>(null);
  const [serverErrors, setServerErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!id) return;
    listStrategies()
      .then((all) => setExisting(all.find((s) => s.id === id) ?? null))
      .catch((e) => setLoadError(messageOf(e)));
  }, [id]);

  async function save(input: StrategyInput) {
    setBusy(true);
    setMessage(null);
    try {
      const r = id ? await updateStrategy(id, input) : await createStrategy(input);
      navigate(paths.strategies, { state: { saved: r.strategy.id, intentCount: r.intentCount } });
    } catch (e) {
      setBusy(false);
      setMessage(messageOf(e));
      if (e instanceof ApiError) setServerErrors(e.fieldErrors);
    }
  }

  if (loadError) return <ErrorNote message={loadError} />;
  if (existing === undefined) return <Loading what="the strategy" />;
  if (id && existing === null) {
    return (
      <section>
        <h1>Strategy not found</h1>
        <p>It was deleted, or it is not yours.</p>
      </section>
    );
  }
  return (
    <section>
      <h1>{id ? 'Edit strategy' : 'New strategy'}</h1>
      <div className="split">
        <StrategyForm
          initial={existing ? draftFromStrategy(existing) : emptyDraft}
          submitLabel={id ? 'Save changes' : 'Create strategy'}
          serverErrors={serverErrors}
          serverMessage={message}
          busy={busy}
          onSubmit={save}
          onChange={(input) => {
            setLive(input);
            setServerErrors({});
          }}
          onCancel={() => navigate(paths.strategies)}
        />
        {can(perm.strategyCreate) ? (
          <PreviewPanel input={live} onServerErrors={setServerErrors} />
        ) : (
          <aside className="card preview"><p className="muted">The live preview needs {perm.strategyCreate}.</p></aside>
        )}
      </div>
    </section>
  );
}
