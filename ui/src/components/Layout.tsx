// The frame of every signed-in view: a skip link, the navigation (only the views the
// user may open), who is signed in, and sign out.
import { NavLink, Outlet } from 'react-router-dom';
import { useSession } from '../auth/session';
import { paths, perm } from '../routes';

interface Item {
  to: string;
  label: string;
  permission: string;
}

const items: Item[] = [
  { to: paths.strategies, label: 'Strategies', permission: perm.strategyRead },
  { to: paths.intents, label: 'Intents', permission: perm.intentRead },
  { to: paths.nodes, label: 'Nodes', permission: perm.nodesRead },
  { to: paths.users, label: 'Users', permission: perm.userRead },
  { to: paths.roles, label: 'Roles', permission: perm.roleRead },
  { to: paths.permissions, label: 'Permissions', permission: perm.permissionRead },
];

export function visibleNavItems(can: (k: string) => boolean): Item[] {
  return items.filter((i) => can(i.permission));
}

export function Layout() {
  const { user, can, signOut } = useSession();
  return (
    <div className="app">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Gthulhu</span>
        <nav aria-label="Main">
          <ul>
            {visibleNavItems(can).map((i) => (
              <li key={i.to}>
                <NavLink to={i.to}>{i.label}</NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span title="Signed in as">{user?.username}</span>
          <button type="button" className="link" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}

export function firstAllowedPath(can: (k: string) => boolean): string | null {
  return visibleNavItems(can)[0]?.to ?? null;
}
