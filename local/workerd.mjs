// Both workers on the real runtime: workerd, through miniflare, with the Pyodide bundle that
// setup builds offline (local/workerd/README.md says how and why). What `wrangler dev -c
// wrangler.toml -c inference_worker/wrangler.toml` runs, with two local-only changes that
// leave the deployed configs alone: the dev Pyodide bundle's compatibility flags, and the
// remote-only AI binding replaced by an in-isolate stand-in (local/workerd/ai-plugin.mjs)
// whose knobs live in a control worker (local/workerd/standin.mjs). With --instrumented (the
// end-to-end tests' host), the storage, queue and service bindings can be made to fail and the Analytics
// Engine points are kept, both through that control worker (local/workerd/instrumented-plugin.mjs).
// With --profile (`make profile`), the control worker can run cProfile in each Python worker
// (local/workerd/profiler.py); with --memory (`make load`, `make bench`), read each Python
// worker's WebAssembly memory (local/workerd/memory.py); with --inspector-port, workerd serves the
// DevTools protocol there (each isolate's JS heap: docs/benchmarks.md, Memory).
//
//   node local/workerd.mjs [-c wrangler.toml ...] [--port 8787] [--ip 127.0.0.1]
//        [--persist-to .wrangler/state] [--var KEY:VALUE ...] [--instrumented] [--profile]
//        [--memory] [--inspector-port PORT]
//        [--compat-flag FLAG ...] [--python-snapshot-dir DIR] [--python-save-snapshot]
//        [--python-save-baseline-snapshot] [--python-load-snapshot NAME]
//        [--rpc-socket WORKER:ENTRYPOINT@PORT ...] [--remote-service [WORKER/]BINDING=HOST:PORT ...] [--no-build | --build-only] [--no-migrations]
// The snapshot options are scripts/snapshots.py's: workerd's snapshot settings hold for the whole
// process, so each snapshotted Python worker runs in a host of its own, and a service binding
// to a worker in another host crosses over --rpc-socket/--remote-service (JS RPC over Cap'n Proto).
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Log, LogLevel, Miniflare, convertV4MiniflareOptions } from 'miniflare';
import { unstable_getMiniflareWorkerOptions } from 'wrangler';
import { applyMigrations } from './bindings.mjs';
import { PLUGIN as AI_PLUGIN } from './workerd/ai-plugin.mjs';
import { PLUGIN as INSTRUMENTED_PLUGIN } from './workerd/instrumented-plugin.mjs';
import { PLUGIN as VECTORIZE_PLUGIN } from './workerd/vectorize-plugin.mjs';
import { PROJECT_ROOT, parseHostOptions, readWorkerConfig, runBuild } from './config.mjs';
import { hostInstance, recordServedHost } from './served-host.mjs';

const require = createRequire(import.meta.url);
const BUNDLE_DIR = path.join(PROJECT_ROOT, '.devhost', 'pyodide-bundle');
// workerd reads its "dev" Pyodide bundle from the disk cache, unchecked; these flags select it.
// They are passed here only: the deployed configs keep `python_workers` alone.
const DEV_BUNDLE_FLAGS = ['python_workers_development', 'no_python_workers_20250116', 'no_python_workers_314'];
const CONTROL_WORKER = 'local-control';
const AI_PLUGIN_PATH = path.join(PROJECT_ROOT, 'local', 'workerd', 'ai-plugin.mjs');
const VECTORIZE_PLUGIN_PATH = path.join(PROJECT_ROOT, 'local', 'workerd', 'vectorize-plugin.mjs');
const INSTRUMENTED_PLUGIN_PATH = path.join(PROJECT_ROOT, 'local', 'workerd', 'instrumented-plugin.mjs');
// Modules the host puts in front of a worker's main module, each re-exporting the one after it and
// adding an entrypoint the control worker calls; their names in a worker are ones no project
// module has.
const WRAPPERS = {
  profile: { file: path.join(PROJECT_ROOT, 'local', 'workerd', 'profiler.py'), module: 'local_profiler', entrypoint: 'Profiler' },
  memory: { file: path.join(PROJECT_ROOT, 'local', 'workerd', 'memory.py'), module: 'local_memory', entrypoint: 'MemoryProbe' },
};
// The bindings --instrumented wraps, by their miniflare option and their kind for the wrapper.
const INSTRUMENTED_KINDS = { d1Databases: 'd1', kvNamespaces: 'kv', r2Buckets: 'r2', queueProducers: 'queue', serviceBindings: 'service', analyticsEngineDatasets: 'analytics' };
// The local index's shape: `wrangler vectorize create` sets it remotely (README: Documents).
const VECTORIZE_DIMENSIONS = Number(process.env.DEVHOST_VECTORIZE_DIMENSIONS ?? 768);
const VECTORIZE_METRIC = process.env.DEVHOST_VECTORIZE_METRIC ?? 'cosine';

function say(text) {
  console.log(`[workerd-host] ${text}`);
}

// Files under dir, leaving out __pycache__ and dot folders (.wrangler's build output).
function filesUnder(dir, skip = () => false) {
  const ignored = (folder) => folder.split(path.sep).some((part) => part === '__pycache__' || part.startsWith('.'));
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && !ignored(path.relative(dir, entry.parentPath)))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .filter((file) => !skip(file));
}

// The modules wrangler uploads for a Python worker: every .py under base_dir (main first), and
// the packages vendored in python_modules/ next to the config, as Data (the SDK's .js as ESM).
// (Test-only workers without a pyproject.toml of their own borrow the project's.)
// With --profile or --memory, the main module is a wrapper (WRAPPERS), which re-exports the worker's own.
function workerModules(config, host) {
  const root = config.baseDir;
  const main = path.resolve(config.main);
  const vendored = config.pythonModules;
  const own = filesUnder(root, (file) => !file.endsWith('.py') || file.startsWith(vendored + path.sep));
  const modules = [main, ...own.filter((file) => file !== main)].map((file) => ({ type: 'PythonModule', path: file }));
  let wrapped = config.mainModule;
  for (const [option, wrapper] of Object.entries(WRAPPERS)) {
    if (!host[option]) continue;
    const source = fs.readFileSync(wrapper.file, 'utf8').replace(/^WORKER_MAIN_MODULE = .*$/m, `WORKER_MAIN_MODULE = ${JSON.stringify(wrapped)}`);
    modules.unshift({ type: 'PythonModule', path: path.join(root, `${wrapper.module}.py`), contents: source });
    wrapped = wrapper.module;
  }
  if (!vendored || !fs.existsSync(vendored)) throw new Error(`${vendored} is missing: run \`make setup\` (it vendors each worker's packages)`);
  for (const file of filesUnder(vendored, (f) => f.endsWith('.pyc'))) {
    const name = path.relative(vendored, file).split(path.sep).join('/');
    const type = name.startsWith('workers/') && name.endsWith('.js') ? 'ESModule' : 'Data';
    modules.push({ type, path: path.join(root, 'python_modules', name), contents: fs.readFileSync(file) });
  }
  return { modulesRoot: root, modules };
}

// The bindings of `options` that --instrumented wraps, moved to unsafe bindings of the instrumented
// plugin, each carrying its real binding as miniflare's config spells it (convertV4MiniflareOptions).
function instrument(options, config) {
  const moved = Object.fromEntries(Object.keys(INSTRUMENTED_KINDS).map((option) => [option, options[option] ?? {}]));
  const { workers: [converted] } = convertV4MiniflareOptions({ workers: [{ name: config.name, modules: true, script: '', ...moved }] });
  const unsafeBindings = Object.entries(moved).flatMap(([option, bindings]) => Object.keys(bindings).map((name) => {
    // As JSON (a plugin's options are): without the fields miniflare left undefined.
    const real = JSON.parse(JSON.stringify(converted.config.env[name]));
    const target = real.type === 'worker' ? real.worker : `${config.name}.${name}`;
    return { name, type: INSTRUMENTED_PLUGIN, plugin: { package: INSTRUMENTED_PLUGIN_PATH, name: INSTRUMENTED_PLUGIN },
      options: { kind: INSTRUMENTED_KINDS[option], target, real, controlWorker: CONTROL_WORKER } };
  }));
  const untouched = Object.fromEntries(Object.keys(INSTRUMENTED_KINDS).map((option) => [option, undefined]));
  return { ...options, ...untouched, unsafeBindings: [...options.unsafeBindings, ...unsafeBindings] };
}

// What wrangler dev would give miniflare for `config`, without `ai` and `vectorize`, which are
// replaced here (wrangler would reach for Cloudflare).
function miniflareOptions(config) {
  return unstable_getMiniflareWorkerOptions({ ...config, ai: undefined, vectorize: [] }).workerOptions;
}

function workerOptions(config, vars, instrumented) {
  const options = miniflareOptions(config);
  const { ai } = config;
  const unsafeBindings = [...options.unsafeBindings ?? []];
  if (ai?.binding) {
    unsafeBindings.push({ name: ai.binding, type: AI_PLUGIN, plugin: { package: AI_PLUGIN_PATH, name: AI_PLUGIN }, options: { recorderWorker: CONTROL_WORKER, worker: config.name } });
  }
  for (const index of config.vectorize ?? []) {
    unsafeBindings.push({ name: index.binding, type: VECTORIZE_PLUGIN, plugin: { package: VECTORIZE_PLUGIN_PATH, name: VECTORIZE_PLUGIN },
      options: { storeWorker: CONTROL_WORKER, index: index.index_name, dimensions: VECTORIZE_DIMENSIONS, metric: VECTORIZE_METRIC } });
  }
  const all = { ...options, name: config.name, bindings: { ...options.bindings, ...config.vars, ...vars }, unsafeBindings };
  return instrumented ? instrument(all, config) : all;
}

// A service binding answered by another workerd process's --rpc-socket: miniflare makes an
// external server's connection a Cap'n Proto one, over which JS RPC works.
// A WORKER/BINDING entry is that worker's alone, and wins over a BINDING entry.
function withRemoteServices(options, remoteServices, workerName) {
  const serviceBindings = { ...options.serviceBindings };
  const entries = Object.entries(remoteServices).map(([key, address]) => [key.includes('/') ? key.split('/') : [null, key], address]);
  const general = entries.filter(([[worker]]) => worker === null);
  const own = entries.filter(([[worker]]) => worker === workerName);
  for (const [[, binding], address] of [...general, ...own]) {
    if (binding in serviceBindings) serviceBindings[binding] = { external: { address, http: {} } };
  }
  return { ...options, serviceBindings };
}

function pythonWorker(config, host) {
  const options = withRemoteServices(workerOptions(config, host.vars, host.instrumented), host.remoteServices, config.name);
  const unsafeDirectSockets = host.rpcSockets.filter((socket) => socket.worker === config.name)
    .map(({ entrypoint, port }) => ({ host: '127.0.0.1', port, entrypoint }));
  return { ...options, ...workerModules(config, host), unsafeDirectSockets,
    compatibilityFlags: [...options.compatibilityFlags, ...DEV_BUNDLE_FLAGS, ...host.compatFlags] };
}

// A self-contained ES module (bench/js): no bundling needed.
function javascriptWorker(config, host) {
  const main = path.resolve(config.main);
  return { ...workerOptions(config, host.vars, false), modulesRoot: path.dirname(main), modules: [{ type: 'ESModule', path: main }] };
}

function controlWorker(configs, instance, { instrumented, profile, memory }) {
  const bindings = { CRONS: {}, HOST_INSTANCE: instance, INSTRUMENTED: instrumented, PROFILED: [], MEMORY_PROBED: [] };
  const serviceBindings = {};
  // Every worker's stores, by id (the same data): R2 contents for tests to read and write, and, with
  // --instrumented having moved the workers' own bindings to the instrumented plugin, what keeps
  // miniflare running each store.
  const stores = { d1Databases: { VECTOR_STORE: 'local-vectorize' }, kvNamespaces: {}, r2Buckets: {} };
  const queueProducers = {};
  for (const config of configs) {
    // Messages sent by hand (tests: a batch that fails, or one that never will).
    for (const producer of config.queues?.producers ?? []) queueProducers[`QUEUE:${producer.queue}`] = producer.queue;
    if (config.triggers?.crons?.length) {
      bindings.CRONS[config.name] = config.triggers.crons[0];
      serviceBindings[`SCHEDULED:${config.name}`] = config.name;
    }
    if (profile && config.language === 'python') {
      bindings.PROFILED.push(config.name);
      serviceBindings[`PROFILER:${config.name}`] = { name: config.name, entrypoint: WRAPPERS.profile.entrypoint };
    }
    if (memory && config.language === 'python') {
      bindings.MEMORY_PROBED.push(config.name);
      serviceBindings[`MEMORY:${config.name}`] = { name: config.name, entrypoint: WRAPPERS.memory.entrypoint };
    }
    const options = miniflareOptions(config);
    for (const [option, prefix] of [['d1Databases', 'D1'], ['kvNamespaces', 'KV'], ['r2Buckets', 'R2']]) {
      for (const [binding, store] of Object.entries(options[option] ?? {})) stores[option][`${prefix}:${config.name}:${binding}`] = store;
    }
  }
  for (const [name, value] of Object.entries(process.env)) if (name.startsWith('DEVHOST_AI_')) bindings[name] = value;
  return {
    name: CONTROL_WORKER,
    modulesRoot: path.join(PROJECT_ROOT, 'local'),
    modules: ['workerd/standin.mjs', 'ai.mjs', 'vectorize.mjs', 'faults.mjs', 'control-guard.mjs'].map((name) => ({ type: 'ESModule', path: path.join(PROJECT_ROOT, 'local', name) })),
    compatibilityDate: '2026-10-01',
    // Fetcher.scheduled(), for the cron trigger route.
    compatibilityFlags: ['service_binding_extra_handlers'],
    routes: ['*/__devhost/*'],
    bindings,
    serviceBindings,
    queueProducers,
    // With the Vectorize stand-in's vectors (local/vectorize.mjs), persisted with the other local data.
    ...stores,
  };
}

async function main() {
  const options = parseHostOptions();
  const bundle = path.join(BUNDLE_DIR, 'pyodide_dev.capnp.bin');
  if (!fs.existsSync(bundle)) throw new Error(`${bundle} is missing: run \`make setup\` (it builds the Pyodide bundle)`);
  process.env.MINIFLARE_WORKERD_PATH = path.join(PROJECT_ROOT, 'local', 'workerd', 'workerd.sh');
  process.env.WORKERD_BIN = require('workerd').default;
  process.env.PYODIDE_BUNDLE_DIR = BUNDLE_DIR;
  process.env.WORKERD_PYTHON_SNAPSHOT_ARGS = options.pythonSnapshotArgs.join(' ');

  const started = performance.now();
  const instance = hostInstance();
  const configs = options.configs.map(readWorkerConfig);
  if (options.build) await Promise.all(configs.map(runBuild));
  if (options.buildOnly) return;
  // For scripts/snapshots.py's timings (workerd.sh): the host's own workerd.
  for (const name of ['WORKERD_SPAWN_STAMP', 'WORKERD_START_GATE']) {
    if (process.env[`DEVHOST_${name}`]) process.env[name] = process.env[`DEVHOST_${name}`];
  }
  const mf = new Miniflare(convertV4MiniflareOptions({
    host: options.ip,
    port: options.port,
    // workerd's own DevTools endpoint, one target per isolate (miniflare proxies none of them).
    inspectorPort: options.inspectorPort,
    log: new Log(LogLevel.INFO),
    // No Request.cf from Cloudflare's API (there is no internet here): requests carry none.
    cf: false,
    // Where `wrangler dev --persist-to` keeps D1, KV and R2 (and the migrations were applied).
    resourcePersistencePath: path.join(options.stateDir, 'v3'),
    workers: [...configs.map((config) => (config.language === 'python' ? pythonWorker : javascriptWorker)(config, options)),
      controlWorker(configs, instance, options)],
  }));
  const url = await mf.ready;
  // Before the host says it is ready: no request reaches a database without its tables. Through
  // the control worker's handle on each store (a worker's own may be wrapped by --instrumented).
  // Not for a host that only saves a snapshot: it serves nothing (scripts/snapshots.py).
  const saving = options.pythonSnapshotArgs.some((arg) => arg.startsWith('--python-save'));
  if (options.migrations && !saving) {
    await applyMigrations(configs, (config, binding) => mf.getD1Database(`D1:${config.name}:${binding}`, CONTROL_WORKER), say);
  }
  say(`started in ${Math.round(performance.now() - started)} ms; state in ${path.relative(PROJECT_ROOT, options.stateDir) || '.'}`);
  recordServedHost(options.stateDir, options.ip, url.port, instance);
  console.log(`[workerd-host] Ready on ${url.origin}`);

  const stop = async () => {
    await mf.dispose();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err) => {
  console.error(`[workerd-host] failed to start: ${err?.stack ?? err}`);
  process.exit(1);
});
