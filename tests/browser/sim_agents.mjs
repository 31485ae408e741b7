// Real gthulhu-agent processes as simulated nodes (agent.simulate: no root or BPF; the
// pod cgroups are directories and the process table a JSON file) for the browser test,
// over mTLS with certificates from scripts/gen-certs.sh, as
// tests/integration/control_loop_process_test.cpp runs them. Returns what the
// coordinator needs to reach them (GTHULHU_AGENTS_* settings).
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

// The pod's container cgroup, as the systemd cgroup driver names it.
export function containerPath(uid) {
  return `kubepods.slice/kubepods-pod${uid.replaceAll('-', '_')}.slice/cri-containerd-${'a'.repeat(64)}.scope`;
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, child, name, log) {
  const deadline = Date.now() + 20000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`agent ${name} exited (${child.exitCode}):\n${log()}`);
    const open = await new Promise((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(true));  // in use: the agent listens
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(false)));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`agent ${name} did not listen on ${port}:\n${log()}`);
}

// nodes: { 'node-a': [{ pid, comm, pod }], ... } (pod: the pod UID the process runs in).
export async function startAgents({ binary, sourceDir, dir, keyFile, nodes }) {
  const certs = join(dir, 'certs');
  execFileSync(join(sourceDir, 'scripts', 'gen-certs.sh'), [certs, ...Object.keys(nodes)], { stdio: 'ignore' });
  const agents = [];
  for (const [node, processes] of Object.entries(nodes)) {
    const root = join(dir, node);
    for (const p of processes) mkdirSync(join(root, 'cgroup', containerPath(p.pod)), { recursive: true });
    const table = join(root, 'processes.json');
    writeFileSync(table, JSON.stringify({
      processes: processes.map((p) => ({ pid: p.pid, ppid: 1, comm: p.comm, cgroup: containerPath(p.pod) })),
    }));
    const port = await freePort();
    const env = {
      PATH: process.env.PATH,
      GTHULHU_AGENT_NODE_NAME: node,
      GTHULHU_AGENT_STATE_DIR: join(root, 'state'),
      GTHULHU_AGENT_CGROUP_ROOT: join(root, 'cgroup'),
      GTHULHU_AGENT_SIMULATE: 'true',
      GTHULHU_AGENT_SIM_PROCESSES: table,
      GTHULHU_AUTH_PRIVATE_KEY: keyFile,
      GTHULHU_SERVER_LISTEN: `127.0.0.1:${port}`,
      GTHULHU_TLS_CERT: join(certs, 'agents', `${node}.crt`),
      GTHULHU_TLS_KEY: join(certs, 'agents', `${node}.key`),
      GTHULHU_TLS_CLIENT_CA: join(certs, 'ca.crt'),
      GTHULHU_LOG_LEVEL: 'warn',
    };
    const child = spawn(binary, [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (c) => { log += c.toString(); });
    child.stderr.on('data', (c) => { log += c.toString(); });
    agents.push({ node, port, child, log: () => log });
    await waitForPort(port, child, node, () => log);
  }
  return {
    env: {
      GTHULHU_AGENTS_STATIC: agents.map((a) => `${a.node}=https://${a.node}:${a.port}@127.0.0.1:${a.port}`).join(','),
      GTHULHU_AGENTS_CA: join(certs, 'ca.crt'),
      GTHULHU_AGENTS_CLIENT_CERT: join(certs, 'coordinator.crt'),
      GTHULHU_AGENTS_CLIENT_KEY: join(certs, 'coordinator.key'),
      GTHULHU_AGENTS_PROBE_INTERVAL: '500ms',
      GTHULHU_AGENTS_RETRY_MAX: '500ms',
    },
    log: () => agents.map((a) => `--- agent ${a.node}\n${a.log()}`).join('\n'),
    async stop() {
      for (const a of agents) {
        if (a.child.exitCode === null) {
          a.child.kill('SIGTERM');
          await new Promise((r) => a.child.once('exit', r));
        }
      }
    },
  };
}
