// Real local D1, KV, R2 and Analytics Engine from wrangler's getPlatformProxy, persisted
// where `wrangler dev` keeps them, and handed to Python under the constructor names workerd
// gives them: the SDK picks its binding wrappers by those names.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { getPlatformProxy } from 'wrangler';
import { AnalyticsEngineDataset, D1Database, R2Bucket } from './facades.mjs';

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

// A stand-in object whose constructor has the given name, forwarding everything else; its
// methods fail when a fault is injected for "<faultPrefix>.<method>".
export function named(constructorName, target, faults, faultPrefix) {
  const Named = { [constructorName]: class {} }[constructorName];
  return new Proxy(new Named(), {
    get(_obj, prop) {
      if (prop === 'constructor') return Named;
      const value = target[prop];
      if (typeof value !== 'function') return value;
      return (...args) => {
        faults?.check(`${faultPrefix}.${String(prop)}`);
        return value.apply(target, args);
      };
    },
    has(_obj, prop) {
      return prop in target;
    },
  });
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

// Runs wrangler's own migration command against the state folder `wrangler dev` uses.
export async function applyMigrations(config, stateDir, log) {
  for (const db of config.d1_databases ?? []) {
    if (!db.migrations_dir) continue;
    const { status, output } = await run([WRANGLER_BIN, 'd1', 'migrations', 'apply', db.binding, '--local',
      '-c', config.configPath, '--persist-to', stateDir]);
    if (status !== 0) throw new Error(`wrangler d1 migrations apply ${db.binding} failed:\n${output}`);
    log(`D1 ${db.binding}: ${/No migrations to apply/i.test(output) ? 'migrations up to date' : 'migrations applied'}`);
  }
}

// getPlatformProxy reads a config file; hand it one with the storage bindings only, so that
// the AI binding (remote-only in wrangler) and service bindings stay with the local host.
export async function storageBindings(config, stateDir, faults, analyticsPoints) {
  const storageConfig = {
    name: config.name,
    compatibility_date: config.compatibility_date,
  };
  for (const kind of Object.keys(STORAGE_KINDS)) storageConfig[kind] = config[kind] ?? [];
  const dir = path.join(stateDir, 'devhost');
  fs.mkdirSync(dir, { recursive: true });
  const configPath = path.join(dir, `${config.name}.storage.json`);
  fs.writeFileSync(configPath, JSON.stringify(storageConfig, null, 2));

  const proxy = await getPlatformProxy({
    configPath,
    persist: { path: path.join(stateDir, 'v3') },
    remoteBindings: false,
  });
  const env = {};
  for (const [kind, constructorName] of Object.entries(STORAGE_KINDS)) {
    for (const binding of storageConfig[kind]) {
      const faultPrefix = `${config.name}.${binding.binding}`;
      const real = proxy.env[binding.binding];
      if (kind === 'd1_databases') env[binding.binding] = new D1Database(real, faults, faultPrefix);
      else if (kind === 'r2_buckets') env[binding.binding] = new R2Bucket(real, faults, faultPrefix);
      else if (kind === 'analytics_engine_datasets') env[binding.binding] = new AnalyticsEngineDataset(binding.dataset, analyticsPoints, faults, faultPrefix);
      else env[binding.binding] = named(constructorName, real, faults, faultPrefix);
    }
  }
  return { env, dispose: () => proxy.dispose() };
}
