#!/usr/bin/env node
// The web UI in headless Chromium (Debian's chromium driven by playwright-core)
// against a real coordinator on loopback whose control loop pushes over mTLS to two
// real gthulhu-agent processes running as simulated nodes (node-a, node-b; node-c has
// no agent):
//   admin: log in, create a strategy (seeing the live preview), see its intents and
//   their states change by themselves, nodes, pod detail, users/roles/permissions,
//   edit and delete it, log out -> the refresh cookie no longer works;
//   viewer (no strategy permission): forced password change, no create button, the
//   server refuses a forced create;
//   a narrow window; keyboard order on the login form; no CSP violation anywhere.
// Screenshots of each view go to --out. Exit 77 (ctest: skipped) without chromium.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ADMIN, INVENTORY, call, makeWorkspace, startCoordinator } from './coordinator_process.mjs';
import { startAgents } from './sim_agents.mjs';

const { values: opt } = parseArgs({
  options: {
    coordinator: { type: 'string' },
    agent: { type: 'string' },
    source: { type: 'string' },
    ui: { type: 'string' },
    'node-modules': { type: 'string' },
    out: { type: 'string' },
    chromium: { type: 'string', default: process.env.GTHULHU_CHROMIUM || '/usr/bin/chromium' },
  },
});
const SKIP = 77;
if (!existsSync(opt.chromium)) {
  console.log(`SKIP: no Chromium at ${opt.chromium} (scripts/deps.sh installs Debian's chromium)`);
  process.exit(SKIP);
}
if (!opt.agent || !existsSync(opt.agent)) {
  console.log(`SKIP: no gthulhu-agent binary (${opt.agent ?? 'not built: the BPF toolchain is off'})`);
  process.exit(SKIP);
}
if (!existsSync(join(opt.ui, 'index.html'))) {
  console.log(`SKIP: the web UI is not built (${opt.ui}/index.html missing)`);
  process.exit(SKIP);
}
const require = createRequire(join(resolve(opt['node-modules']), 'noop.js'));
let chromium;
try {
  ({ chromium } = require('playwright-core'));
} catch (e) {
  console.log(`SKIP: playwright-core not installed in ${opt['node-modules']} (${e.message})`);
  process.exit(SKIP);
}
mkdirSync(opt.out, { recursive: true });
for (const f of readdirSync(opt.out)) if (f.endsWith('.png')) rmSync(join(opt.out, f));

let failures = 0;
let step = '';
function check(cond, what) {
  if (cond) {
    console.log(`  ok   ${what}`);
  } else {
    failures++;
    console.log(`  FAIL ${what}`);
  }
}
const log = (s) => {
  step = s;
  console.log(`- ${s}`);
};

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];

// prometheus-0 (node-a) has its prometheus process: its intent becomes Applied;
// prometheus-1 (node-b) runs only a shell, so the "^prometheus" command regex matches
// nothing there and its intent is Waiting; nginx-0 (node-b) gets no strategy.
const uid = (name) => INVENTORY.pods.find((p) => p.name === name).uid;
const workspace = makeWorkspace();
const agents = await startAgents({
  binary: opt.agent, sourceDir: opt.source, dir: workspace.dir, keyFile: workspace.keyFile,
  nodes: {
    'node-a': [{ pid: 100, comm: 'prometheus', pod: uid('prometheus-0') }],
    'node-b': [{ pid: 200, comm: 'sh', pod: uid('prometheus-1') }, { pid: 201, comm: 'nginx', pod: uid('nginx-0') }],
  },
});
const coord = await startCoordinator({ binary: opt.coordinator, uiDir: opt.ui, workspace, agentEnv: agents.env })
  .catch(async (e) => {
    await agents.stop();
    workspace.remove();
    throw e;
  });
const profiles = [];
let browserContexts = [];

async function newBrowser(viewport = { width: 1280, height: 860 }) {
  const profile = mkdtempSync(join(tmpdir(), 'gthulhu-chromium-'));
  profiles.push(profile);
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: opt.chromium,
    headless: true,
    args: FLAGS,
    viewport,
    locale: 'en-GB',
    timezoneId: 'Europe/Berlin',
  });
  browserContexts.push(ctx);
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  page.setDefaultTimeout(10000);
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 4\d\d|status of 503/.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  return { ctx, page, problems };
}

// Waits (up to the default timeout) for the locator to show; false if it never does.
const appears = (locator) => locator.first().waitFor().then(() => true, () => false);

const shot = async (page, name) => {
  await page.screenshot({ path: join(opt.out, `${name}.png`), fullPage: true });
  console.log(`  shot ${name}.png`);
};

try {
  // ---------------------------------------------------------------- admin
  const admin = await newBrowser();
  const page = admin.page;
  const B = coord.base;

  log('the UI is served with its CSP; / leads to the login view');
  const index = await fetch(`${B}/`);
  check(index.status === 200 && /text\/html/.test(index.headers.get('content-type')), 'GET / is index.html');
  check(/script-src 'self'/.test(index.headers.get('content-security-policy') ?? ''), 'index.html carries the CSP');
  check(index.headers.get('cache-control') === 'no-cache', 'index.html is no-cache');
  await page.goto(`${B}/`);
  await page.getByRole('heading', { name: 'Sign in to Gthulhu' }).waitFor();
  check(page.url() === `${B}/login`, 'redirected to /login');
  await shot(page, '01-login');

  log('keyboard: the login form in tab order');
  await page.getByLabel('Username').focus();
  await page.keyboard.press('Tab');
  check(await page.evaluate(() => document.activeElement?.id) === 'password', 'Tab moves to Password');
  await page.keyboard.press('Tab');
  check(await page.evaluate(() => document.activeElement?.textContent) === 'Sign in', 'then to Sign in');

  log('a wrong password is answered next to the form');
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Password').fill('wrong password');
  await page.keyboard.press('Enter');
  await page.getByRole('alert').waitFor();
  check((await page.getByRole('alert').textContent()).includes('invalid username or password'), 'server error shown');

  log('admin signs in');
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Strategies' }).waitFor();
  await page.getByText('No strategies yet.').waitFor();
  const cookies = await admin.ctx.cookies();
  const rc = cookies.find((c) => c.name === 'gthulhu_refresh');
  check(rc && rc.httpOnly && rc.sameSite === 'Strict' && rc.path === '/api/v1/auth', 'refresh cookie: HttpOnly, SameSite=Strict, Path=/api/v1/auth');
  check(await page.evaluate(() => !document.cookie.includes('gthulhu_refresh')), 'the script cannot read the refresh cookie');
  check(await page.evaluate(() => localStorage.length === 0 && sessionStorage.length === 0), 'nothing in localStorage / sessionStorage');
  await shot(page, '02-strategies-empty');

  log('create a strategy, with the live preview');
  await page.getByRole('button', { name: 'New strategy' }).click();
  await page.getByRole('heading', { name: 'New strategy' }).waitFor();
  await page.getByLabel('Label key 1').fill('app.kubernetes.io/name');
  await page.getByLabel('Value 1').fill('prometheus');
  await page.getByText('2 pods on 2 nodes').waitFor();
  check(await appears(page.getByRole('cell', { name: 'prometheus-0' })), 'preview lists prometheus-0');
  check(await page.getByRole('cell', { name: 'prometheus-old' }).count() === 0, 'preview leaves out the finished pod');
  await page.getByLabel('Priority').fill('25');
  await page.getByText('must be between -20 and 20, got 25').waitFor();
  check(true, 'an out-of-range priority is flagged next to the field');
  await shot(page, '03a-strategy-validation');
  await page.getByLabel('Priority').fill('10');
  await page.getByLabel('Time slice (ms)').fill('4');
  await page.getByLabel('Command regex').fill('^prometheus');
  await page.getByText('2 pods on 2 nodes').waitFor();
  await shot(page, '03-strategy-new-with-preview');
  await page.getByRole('button', { name: 'Create strategy' }).click();
  await page.getByText('Saved. 2 intent(s) planned').waitFor();
  check(await appears(page.getByRole('cell', { name: /app.kubernetes.io\/name=prometheus/ })), 'the strategy is listed');
  await shot(page, '04-strategies');

  log('its intents and their states, updating by themselves');
  await page.getByRole('link', { name: /Intents of this strategy/ }).click();
  await page.getByRole('heading', { name: 'Intents' }).waitFor();
  await page.locator('tr[data-intent-state]').nth(1).waitFor();
  // The control loop pushes them to the agents; their answers reach the open page.
  await page.locator('tr[data-intent-state="Applied"]').waitFor({ timeout: 20000 });
  await page.locator('tr[data-intent-state="Waiting"]').waitFor({ timeout: 20000 });
  check(true, 'Applied (node-a) and Waiting (node-b) shown without a reload');
  const adminToken = (await call(B, 'POST', '/api/v1/auth/login', { body: ADMIN })).json.data.accessToken;
  const listed = (await call(B, 'GET', '/api/v1/intents/self', { token: adminToken })).json.data.intents;
  const waiting = listed.find((i) => i.podName === 'prometheus-1');
  check(waiting?.stateName === 'Waiting' && listed.find((i) => i.podName === 'prometheus-0')?.stateName === 'Applied',
    `the store agrees: ${listed.map((i) => `${i.podName}=${i.stateName}`).join(', ')}`);
  check(await appears(page.getByText(waiting?.stateReason || 'no reason given')), `the waiting reason is shown: "${waiting?.stateReason}"`);
  await shot(page, '05-intents-by-strategy');
  // The radio follows the URL (?by=node): it turns checked only once the router has
  // re-rendered, which a busy machine defers past locator.check()'s immediate look.
  // Click, then wait for what the click means: the per-node regions and the checked radio.
  await page.getByLabel('By node').click();
  await page.getByRole('region', { name: 'Node node-b' }).waitFor();
  await page.waitForFunction(() => document.querySelector('input[name="by"]:checked')?.parentElement?.textContent?.includes('By node'));
  await shot(page, '06-intents-by-node');

  log('nodes');
  await page.getByRole('link', { name: 'Nodes' }).click();
  await page.getByRole('heading', { name: 'Nodes' }).waitFor();
  await page.locator('tr[data-node="node-a"]').waitFor();
  check(await page.locator('tr[data-node]').count() === 3, 'three nodes');
  await shot(page, '07-nodes');

  log('pod detail: a pod without a policy says why; a policied pod shows its node\'s figures');
  await page.goto(`${B}/pods/${uid('nginx-0')}`);
  await page.getByText('No metrics for this pod').waitFor();
  check((await page.getByRole('alert').textContent()).includes('has no policy on node node-b'), 'the agent\'s 404 is explained');
  await shot(page, '08-pod-detail-no-policy');
  await page.goto(`${B}/pods/${uid('prometheus-0')}`);
  await page.getByRole('img', { name: 'Runqueue wait over time' }).waitFor({ timeout: 20000 });
  check(await appears(page.getByText('Simulated node')), 'the figures are marked as a simulated node\'s');
  // The view polls every 3 s and the coordinator keeps each answer: wait for a series.
  const points = () => page.evaluate(() => {
    const l = document.querySelector('svg[aria-label="Runqueue wait over time"] polyline.s-p99');
    return l ? l.getAttribute('points').split(' ').length : 0;
  });
  const seriesBy = Date.now() + 30000;
  while ((await points()) < 5 && Date.now() < seriesBy) await page.waitForTimeout(500);
  check((await points()) >= 5, `p99 over time has ${await points()} points`);
  const served = await call(B, 'GET', `/api/v1/pods/metrics?podId=${uid('prometheus-0')}`, { token: adminToken });
  const last = served.json?.data?.samples?.at(-1);
  check(served.status === 200 && served.json.data.node === 'node-a' && served.json.data.source === 'simulated' &&
    last.waitP99Ns > last.waitP50Ns && last.cpuUse > 0 && served.json.data.runs > 0,
    `GET /api/v1/pods/metrics from node-a: runs ${served.json?.data?.runs}, p50 ${last?.waitP50Ns} ns, p99 ${last?.waitP99Ns} ns, CPU ${last?.cpuUse}`);
  check(await page.locator('svg[aria-label="Runqueue wait histogram (runs per bucket)"] rect.bar').count() === 24, 'the histogram has 24 buckets');
  await shot(page, '09-pod-detail');

  log('users, roles, permissions');
  await call(B, 'POST', '/api/v1/roles', { token: adminToken, body: { name: 'viewer', description: 'reads strategies and intents',
    rolePolicies: [{ permissionKey: 'schedule_strategy.read' }, { permissionKey: 'schedule_intent.read' }, { permissionKey: 'pod_pid_mapping.read' }] } });
  await page.getByRole('link', { name: 'Users' }).click();
  await page.getByRole('heading', { name: 'New user' }).waitFor();
  await page.getByLabel('Username').fill('viewer@example.com');
  await page.getByLabel('Initial password').fill('initial viewer password');
  await page.getByLabel('viewer').check();
  await page.getByRole('button', { name: 'Create user' }).click();
  await page.getByRole('rowheader', { name: 'viewer@example.com' }).waitFor();
  check(await appears(page.getByRole('row', { name: /viewer@example.com viewer Must change password/ })), 'the new user must change their password');
  await shot(page, '10-users');
  await page.getByRole('link', { name: 'Roles' }).click();
  await page.getByRole('heading', { name: 'viewer' }).waitFor();
  await shot(page, '11-roles');
  await page.getByRole('link', { name: 'Permissions' }).click();
  await page.getByRole('rowheader', { name: 'schedule_strategy.create' }).waitFor();
  await shot(page, '12-permissions');

  // ---------------------------------------------------------------- viewer
  log('viewer: forced password change, no create button, the server refuses a forced create');
  const viewer = await newBrowser();
  const vp = viewer.page;
  await vp.goto(`${B}/strategies`);
  await vp.getByLabel('Username').fill('viewer@example.com');
  await vp.getByLabel('Password').fill('initial viewer password');
  await vp.getByRole('button', { name: 'Sign in' }).click();
  await vp.getByRole('heading', { name: 'Choose a new password' }).waitFor();
  check(vp.url() === `${B}/change-password`, 'sent to the password change');
  await shot(vp, '13-forced-password-change');
  await vp.getByLabel('Current password').fill('initial viewer password');
  await vp.getByLabel('New password', { exact: true }).fill('viewer password two');
  await vp.getByLabel('Repeat the new password').fill('viewer password two');
  await vp.getByRole('button', { name: 'Change password' }).click();
  await vp.getByRole('heading', { name: 'Strategies' }).waitFor();
  await vp.getByText('No strategies yet.').waitFor();
  check(await vp.getByRole('button', { name: 'New strategy' }).count() === 0, 'no "New strategy" button');
  check(await vp.getByRole('link', { name: 'Users' }).count() === 0, 'no admin views in the navigation');
  await shot(vp, '14-viewer-strategies');
  const forced = await vp.evaluate(async () => {
    const t = await fetch('/api/v1/auth/refresh', { method: 'POST', credentials: 'same-origin' }).then((r) => r.json());
    const r = await fetch('/api/v1/strategies', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${t.data.accessToken}` },
      body: JSON.stringify({ labelSelectors: [{ key: 'app', value: 'nginx' }], priority: 5 }),
    });
    return { status: r.status, body: await r.json() };
  });
  check(forced.status === 403 && forced.body.error === 'permission denied', `forced create refused: ${forced.status} ${forced.body.error}`);
  await vp.goto(`${B}/strategies/new`);
  await vp.getByRole('heading', { name: 'Not available' }).waitFor();
  check(true, 'the create view says which permission it needs');

  // ---------------------------------------------------------------- admin again
  log('narrow window');
  const narrow = await newBrowser({ width: 420, height: 900 });
  await narrow.page.goto(`${B}/login`);
  await narrow.page.getByLabel('Username').fill(ADMIN.username);
  await narrow.page.getByLabel('Password').fill(ADMIN.password);
  await narrow.page.getByRole('button', { name: 'Sign in' }).click();
  await narrow.page.getByRole('cell', { name: /prometheus/ }).first().waitFor();
  const overflow = await narrow.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `no page-wide horizontal scrolling at 420 px (overflow ${overflow})`);
  await shot(narrow.page, '15-strategies-narrow');
  await narrow.page.getByRole('link', { name: 'Intents', exact: true }).click();
  await narrow.page.locator('tr[data-intent-state]').first().waitFor();
  await shot(narrow.page, '15a-intents-narrow');

  log('edit the strategy');
  await page.getByRole('link', { name: 'Strategies' }).click();
  await page.getByRole('link', { name: 'Edit' }).click();
  await page.getByRole('heading', { name: 'Edit strategy' }).waitFor();
  check(await page.getByLabel('Priority').inputValue() === '10', 'the form holds the stored values');
  await page.getByLabel('Namespaces').fill('default');
  await page.getByLabel('Priority').fill('-5');
  await page.getByText('2 pods on 2 nodes').waitFor();
  await shot(page, '16-strategy-edit');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByText('Saved.').waitFor();
  check(await appears(page.getByRole('cell', { name: '-5', exact: true })), 'the new priority is listed');

  log('delete it');
  await page.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('button', { name: 'Confirm delete' }).click();
  await page.getByText('No strategies yet.').waitFor();
  const left = await call(B, 'GET', '/api/v1/intents/self', { token: adminToken });
  check(left.json.data.intents.length === 0, 'its intents are gone');

  log('log out: the refresh cookie is useless afterwards');
  const before = (await admin.ctx.cookies()).find((c) => c.name === 'gthulhu_refresh');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in to Gthulhu' }).waitFor();
  check(!(await admin.ctx.cookies()).some((c) => c.name === 'gthulhu_refresh'), 'the browser dropped the cookie');
  const replay = await call(B, 'POST', '/api/v1/auth/refresh', { cookie: `gthulhu_refresh=${before.value}` });
  check(replay.status === 401, `refresh with the old cookie: ${replay.status}`);
  await page.goto(`${B}/strategies`);
  await page.getByRole('heading', { name: 'Sign in to Gthulhu' }).waitFor();
  check(true, 'a reload after logout asks to sign in');

  for (const [who, b] of [['admin', admin], ['viewer', viewer], ['narrow', narrow]]) {
    check(b.problems.length === 0, `${who}: no console errors or CSP violations ${b.problems.join(' | ')}`);
  }
} catch (e) {
  failures++;
  console.log(`  FAIL during "${step}": ${e.stack ?? e}`);
  for (const [i, c] of browserContexts.entries()) {
    for (const p of c.pages()) await p.screenshot({ path: join(opt.out, `failure-${i}.png`), fullPage: true }).catch(() => {});
  }
  console.log(coord.log().split('\n').slice(-30).join('\n'));
  console.log(agents.log().split('\n').slice(-30).join('\n'));
} finally {
  for (const c of browserContexts) await c.close().catch(() => {});
  for (const p of profiles) rmSync(p, { recursive: true, force: true });
  await coord.stop();
  await agents.stop();
  workspace.remove();
}
console.log(failures ? `${failures} check(s) failed` : 'all browser checks passed');
process.exit(failures ? 1 : 0);
