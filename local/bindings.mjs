// The local D1 databases' migrations, applied by wrangler's own command to the state folder
// `wrangler dev` uses.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const WRANGLER_BIN = path.join(path.dirname(require.resolve('wrangler/package.json')), 'bin', 'wrangler.js');

const STORAGE_KINDS = {
  d1_databases: 'D1Database',
  kv_namespaces: 'KvNamespace',
  r2_buckets: 'R2Bucket',
  analytics_engine_datasets: 'AnalyticsEngineDataset',
};

export function hasStorageBindings(config) {
  return Object.keys(STORAGE_KINDS).some((kind) => config[kind]?.length);
}

function run(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false' } });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('exit', (status) => resolve({ status, output }));
  });
}

export async function applyMigrations(config, stateDir, log) {
  for (const db of config.d1_databases ?? []) {
    if (!db.migrations_dir) continue;
    const { status, output } = await run([WRANGLER_BIN, 'd1', 'migrations', 'apply', db.binding, '--local',
      '-c', config.configPath, '--persist-to', stateDir]);
    if (status !== 0) throw new Error(`wrangler d1 migrations apply ${db.binding} failed:\n${output}`);
    log(`D1 ${db.binding}: ${/No migrations to apply/i.test(output) ? 'migrations up to date' : 'migrations applied'}`);
  }
}
