import { Navigate, Route, Routes, useLocation } from 'react-router-dom';
import type { ReactNode } from 'react';
import { useSession } from './auth/session';
import { Layout, firstAllowedPath } from './components/Layout';
import { Loading } from './components/Status';
import { paths, perm } from './routes';
import { LoginView } from './views/LoginView';
import { ChangePasswordView } from './views/ChangePasswordView';
import { StrategiesView } from './views/StrategiesView';
import { StrategyEditView } from './views/StrategyEditView';
import { IntentsView } from './views/IntentsView';
import { NodesView } from './views/NodesView';
import { PodDetailView } from './views/PodDetailView';
import { UsersView } from './views/UsersView';
import { RolesView } from './views/RolesView';
import { PermissionsView } from './views/PermissionsView';

function Guard({ permission, children }: { permission: string; children: ReactNode }) {
  const { can } = useSession();
  if (!can(permission)) {
    return (
      <section>
        <h1>Not available</h1>
        <p>Your roles do not grant <code>{permission}</code>, which this view needs.</p>
      </section>
    );
  }
  return <>{children}</>;
}

function Home() {
  const { can } = useSession();
  const first = firstAllowedPath(can);
  if (first) return <Navigate to={first} replace />;
  return (
    <section>
      <h1>Welcome</h1>
      <p>Your roles grant no view yet. Ask an administrator for a role.</p>
    </section>
  );
}

export function App() {
  const session = useSession();
  const location = useLocation();
  if (session.status === 'loading') return <Loading what="your session" />;
  if (session.status === 'signedOut') {
    if (location.pathname === paths.login) return <LoginView />;
    return <Navigate to={paths.login} replace state={{ from: location.pathname }} />;
  }
  if (session.status === 'mustChangePassword') {
    if (location.pathname === paths.changePassword) return <ChangePasswordView />;
    return <Navigate to={paths.changePassword} replace />;
  }
  return (
    <Routes>
      <Route path={paths.login} element={<Navigate to="/" replace />} />
      <Route path={paths.changePassword} element={<ChangePasswordView />} />
      <Route element={<Layout />}>
        <Route index element={<Home />} />
        <Route path={paths.strategies} element={<Guard permission={perm.strategyRead}><StrategiesView /></Guard>} />
        <Route path={paths.newStrategy} element={<Guard permission={perm.strategyCreate}><StrategyEditView /></Guard>} />
        <Route path="/strategies/:id/edit" element={<Guard permission={perm.strategyUpdate}><StrategyEditView /></Guard>} />
        <Route path={paths.intents} element={<Guard permission={perm.intentRead}><IntentsView /></Guard>} />
        <Route path={paths.nodes} element={<Guard permission={perm.nodesRead}><NodesView /></Guard>} />
        <Route path="/pods/:uid" element={<Guard permission={perm.nodesRead}><PodDetailView /></Guard>} />
        <Route path={paths.users} element={<Guard permission={perm.userRead}><UsersView /></Guard>} />
        <Route path={paths.roles} element={<Guard permission={perm.roleRead}><RolesView /></Guard>} />
        <Route path={paths.permissions} element={<Guard permission={perm.permissionRead}><PermissionsView /></Guard>} />
        <Route path="*" element={<section><h1>Not found</h1><p>There is no such page.</p></section>} />
      </Route>
    </Routes>
  );
}
