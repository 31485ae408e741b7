// A real gthulhu-coordinator on 127.0.0.1 (random port) for the browser tests: SQLite
// in a temporary directory, a freshly generated RSA key, a low Argon2 cost, a static
// pod inventory (the pattern of tests/unit/coordinator_harness.h) and, when given,
// real simulated agents (sim_agents.mjs) that its control loop pushes to.
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ADMIN = { username: 'admin@example.com', password: 'correct horse battery staple' };

export const INVENTORY = {
  pods: [
    { uid: '0a0a0a0a-0000-0000-0000-000000000001', name: 'prometheus-0', namespace: 'default',
      labels: { 'app.kubernetes.io/name': 'prometheus' }, nodeName: 'node-a', phase: 'Running' },
    { uid: '0a0a0a0a-0000-0000-0000-000000000002', name: 'prometheus-1', namespace: 'default',
      labels: { 'app.kubernetes.io/name': 'prometheus' }, nodeName: 'node-b', phase: 'Running' },
    { uid: '0a0a0a0a-0000-0000-0000-000000000003', name: 'prometheus-old', namespace: 'default',
      labels: { 'app.kubernetes.io/name': 'prometheus' }, nodeName: 'node-a', phase: 'Succeeded' },
    { uid: '0a0a0a0a-0000-0000-0000-000000000005', name: 'nginx-0', namespace: 'web',
      labels: { app: 'nginx', tier: 'front' }, nodeName: 'node-b', phase: 'Running' },
    { uid: '0a0a0a0a-0000-0000-0000-000000000006', name: 'nginx-1', namespace: 'web',
      labels: { app: 'nginx', tier: 'front' }, nodeName: 'node-c', phase: 'Running' },
  ],
};

// The temporary directory and token signing key shared by the coordinator and agents.
export function makeWorkspace() {
  const dir = mkdtempSync(join(tmpdir(), 'gthulhu-browser-'));
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyFile = join(dir, 'token.key');
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(), { mode: 0o600 });
  return { dir, keyFile, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function startCoordinator({ binary, uiDir, workspace, agentEnv = {} }) {
  const { dir, keyFile } = workspace;
  const inventory = join(dir, 'inventory.json');
  writeFileSync(inventory, JSON.stringify(INVENTORY));
  const env = {
    PATH: process.env.PATH,
    GTHULHU_SERVER_LISTEN: '127.0.0.1:0',
    GTHULHU_SERVER_ACCESS_LOG: 'false',
    GTHULHU_AUTH_PRIVATE_KEY: keyFile,
    GTHULHU_SQLITE_PATH: join(dir, 'coordinator.db'),
    GTHULHU_AUTH_ARGON2_MEMORY_KIB: '64',
    GTHULHU_AUTH_ARGON2_ITERATIONS: '1',
    GTHULHU_ADMIN_PASSWORD: ADMIN.password,
    GTHULHU_PODS_INVENTORY_FILE: inventory,
    GTHULHU_AUTH_LOGIN_ATTEMPTS_PER_IP: '100000',
    GTHULHU_AUTH_LOGIN_FAILURES_PER_USER: '100000',
    GTHULHU_UI_DIRECTORY: uiDir,
    GTHULHU_LOG_LEVEL: 'info',
    ...agentEnv,
  };
  const child = spawn(binary, [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`coordinator did not start:\n${log}`)), 20000);
    const onData = (chunk) => {
      log += chunk.toString();
      const m = /listening on port (\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`coordinator exited (${code}):\n${log}`)));
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    const r = await fetch(`${base}/health`).catch(() => null);
    if (r && r.status === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    log: () => log,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    },
  };
}

// The JSON API from the test itself (setup, and checks the browser cannot make).
export async function call(base, method, path, { body, token, cookie } = {}) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  if (cookie) headers.Cookie = cookie;
  const r = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, json, headers: r.headers };
}
