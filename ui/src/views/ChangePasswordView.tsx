// The forced password change of a new (or reset) account, and a voluntary one. The
// server revokes every other session on success, so the UI signs in again with the
// new password to get a fresh refresh cookie.
import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router-dom';
import { changeOwnPassword } from '../api/endpoints';
import { messageOf } from '../api/errors';
import { useSession } from '../auth/session';
import { ErrorNote } from '../components/Status';

export function ChangePasswordView() {
  const { status, username, signIn, signOut } = useSession();
  const navigate = useNavigate();
  const [oldPassword, setOld] = useState('');
  const [newPassword, setNew] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [typedName, setTypedName] = useState('');
  const forced = status === 'mustChangePassword';
  const mismatch = repeat !== '' && repeat !== newPassword;

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (mismatch) return;
    setBusy(true);
    setError(null);
    try {
      await changeOwnPassword(oldPassword, newPassword);
      await signIn(username ?? typedName, newPassword);
      navigate('/', { replace: true });
    } catch (err) {
      setError(messageOf(err));
      setBusy(false);
    }
  }

  return (
    <main className="narrow" id="main">
      <h1>{forced ? 'Choose a new password' : 'Change your password'}</h1>
      {forced && <p>Your account needs a new password before you can continue.</p>}
      <form onSubmit={submit} className="card">
        {!username && (
          <>
            <label htmlFor="cp-username">Username</label>
            <input id="cp-username" autoComplete="username" required value={typedName}
              onChange={(e) => setTypedName(e.target.value)} />
          </>
        )}
        <label htmlFor="old-password">Current password</label>
        <input id="old-password" type="password" autoComplete="current-password" required value={oldPassword}
          onChange={(e) => setOld(e.target.value)} autoFocus />
        <label htmlFor="new-password">New password</label>
        <input id="new-password" type="password" autoComplete="new-password" required value={newPassword}
          onChange={(e) => setNew(e.target.value)} aria-describedby="new-password-hint" />
        <span className="hint" id="new-password-hint">At least 12 characters, different from the current one.</span>
        <label htmlFor="repeat-password">Repeat the new password</label>
        <input id="repeat-password" type="password" autoComplete="new-password" required value={repeat}
          onChange={(e) => setRepeat(e.target.value)} aria-invalid={mismatch}
          aria-describedby={mismatch ? 'repeat-error' : undefined} />
        {mismatch && <span className="field-error" id="repeat-error" role="alert">The two passwords differ.</span>}
        <ErrorNote message={error} />
        <div className="row">
          <button type="submit" disabled={busy || mismatch}>{busy ? 'Saving…' : 'Change password'}</button>
          <button type="button" className="secondary" onClick={() => void signOut()}>Sign out</button>
        </div>
      </form>
    </main>
  );
}
