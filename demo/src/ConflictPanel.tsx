import { useEffect, useRef, useState } from 'react';
import type { Replica } from '@concord/client';
import type { ConflictEntry, RowValues } from '@concord/shared';
import { useStatus } from './use-status';

/**
 * Every conflict the server logged, newest first, refreshed after each sync: the resolver, who
 * won and lost with which values, and why. Open `manual()` conflicts are settled here (keep
 * mine, take theirs, or edit), and any past decision can be overridden; the result replicates.
 */
export function ConflictPanel({ replica }: { replica: Replica }) {
  const { lastSyncAt, replicaId } = useStatus(replica);
  const [conflicts, setConflicts] = useState<ConflictEntry[]>([]);
  const [error, setError] = useState<string | null>(null);
  const latest = useRef(0);
  const reload = async () => {
    const asked = ++latest.current;
    const all = await replica.conflicts({ scope: 'all' }).catch(() => undefined);
    if (all && asked === latest.current) setConflicts(all.reverse()); // only the newest answer shows
  };
  useEffect(() => void reload(), [lastSyncAt]); // a sync may have brought new conflicts

  const settle = async (id: string, choice: 'loser' | 'winner' | RowValues) => {
    setError(null);
    try {
      await replica.resolveConflict(id, choice, { by: `device ${replicaId?.slice(-6) ?? '?'}` });
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    }
    await reload();
  };
  const who = (id: string | null) =>
    id === null ? '—' : id === replicaId ? 'this device' : `replica …${id.slice(-6)}`;

  return (
    <aside className="conflicts" data-testid="conflict-panel">
      <h2>Conflicts ({conflicts.filter((c) => c.status === 'open').length} open)</h2>
      {error && <p className="warn">{error}</p>}
      {conflicts.length === 0 && <p>No conflicts yet. Switch a device offline and edit the same row on two devices.</p>}
      <ul>
        {conflicts.map((c) => {
          const mine = c.loser === replicaId ? 'loser' : 'winner';
          const theirs = mine === 'loser' ? 'winner' : 'loser';
          return (
            <li key={c.id} className={c.status} data-testid="conflict">
              <header>
                <strong>
                  {c.table}.{c.columns.join(', ') || 'row'}
                </strong>{' '}
                <span className="badge">{c.status}</span> <span className="badge">{c.resolver}</span>{' '}
                <small>{c.type}</small>
              </header>
              <dl>
                <dt>winner ({who(c.winner)})</dt>
                <dd>{format(c.winningValues)}</dd>
                <dt>loser ({who(c.loser)})</dt>
                <dd>{format(c.losingValues)}</dd>
              </dl>
              {c.reason && <p className="reason">{c.reason}</p>}
              {c.resolvedBy && (
                <p className="reason">
                  settled by {c.resolvedBy} at {c.resolvedAt && new Date(c.resolvedAt).toLocaleTimeString()}
                </p>
              )}
              {c.status === 'open' ? (
                <div className="actions">
                  <button onClick={() => void settle(c.id, mine)}>Keep mine</button>
                  <button onClick={() => void settle(c.id, theirs)}>Take theirs</button>
                  <EditChoice entry={c} onSubmit={(values) => void settle(c.id, values)} />
                </div>
              ) : (
                c.losingValues !== null && (
                  <div className="actions">
                    <button onClick={() => void settle(c.id, 'loser')}>Override: take the loser</button>
                  </div>
                )
              )}
            </li>
          );
        })}
      </ul>
    </aside>
  );
}

/** Hand-edited values for the conflicting columns, typed as the winning values are. */
function EditChoice({ entry, onSubmit }: { entry: ConflictEntry; onSubmit: (values: RowValues) => void }) {
  const [draft, setDraft] = useState('');
  const column = entry.columns[0];
  if (!column) return null;
  const numeric = typeof entry.winningValues?.[column] === 'number';
  const value = numeric ? Number(draft) : draft;
  // A number column takes only a finite number: anything else would be sent as null.
  const usable = draft.trim() !== '' && (!numeric || Number.isFinite(value));
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        if (usable) onSubmit({ [column]: value });
      }}
    >
      <input
        aria-label={`new ${column}`}
        placeholder={`new ${column}`}
        type={numeric ? 'number' : 'text'}
        step="any"
        value={draft}
        onChange={(e) => setDraft(e.target.value)}
      />
      <button type="submit" disabled={!usable}>
        Use
      </button>
    </form>
  );
}

function format(values: RowValues | null): string {
  if (values === null) return 'deleted';
  return Object.entries(values)
    .map(([column, value]) => `${column}: ${JSON.stringify(value)}`)
    .join(', ');
}
