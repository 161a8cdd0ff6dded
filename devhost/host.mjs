// The local Python Workers host: `wrangler dev -c a.toml -c b.toml` for machines where workerd
// cannot fetch its Python runtime. Each config becomes a Python Worker in its own Pyodide
// instance with real local bindings; the first one is served over HTTP, the others are
// reachable only through service bindings, as with wrangler dev.
//
//   node --experimental-wasm-jspi devhost/host.mjs [-c wrangler.toml ...] [--port 8787]
//        [--ip 127.0.0.1] [--persist-to .wrangler/state] [--var KEY:VALUE ...]
import http from 'node:http';
import path from 'node:path';
import { Ai, AiRecorder } from './ai.mjs';
import { applyMigrations, hasStorageBindings, storageBindings } from './bindings.mjs';
import { PROJECT_ROOT, parseHostOptions, readWorkerConfig, runBuild } from './config.mjs';
import { CONTROL_PREFIX, control } from './control.mjs';
import { Faults } from './faults.mjs';
import { sendResponse, toRequest } from './http.mjs';
import { ExecutionContext, PythonWorker } from './python-worker.mjs';
import { serviceBinding } from './rpc.mjs';
import { hostInstance, recordServedHost } from './served-host.mjs';

function say(text) {
  console.log(`[devhost] ${text}`);
}

async function startWorkers({ configs, stateDir, vars }, ai, faults, analyticsPoints) {
  const loaded = configs.map(readWorkerConfig);
  for (const config of loaded) if (config.language !== 'python') throw new Error(`${config.configPath}: devhost runs Python workers only`);
  const workers = new Map();
  const disposers = [];
  let migrations = Promise.resolve();

  await Promise.all(loaded.map(async (config) => {
    await runBuild(config);
    const worker = new PythonWorker({
      name: config.name,
      baseDir: config.baseDir,
      mainModule: config.mainModule,
      wheels: config.wheels,
      log: (stream, text) => (stream === 'error' ? console.error : console.log)(`[${config.name}] ${text}`),
    });
    const storage = hasStorageBindings(config)
      ? (async () => {
          // One config at a time: two backends of one database would apply the same migrations at once.
          migrations = migrations.then(() => applyMigrations(config, stateDir, say));
          await migrations;
          return storageBindings(config, stateDir, faults, analyticsPoints);
        })()
      : Promise.resolve({ env: {}, dispose: () => {} });
    const [bindings] = await Promise.all([storage, worker.boot()]);
    disposers.push(bindings.dispose);
    worker.config = config;
    worker.storageEnv = bindings.env;
    workers.set(config.name, worker);
  }));

  // Service bindings need every worker to exist first.
  for (const worker of workers.values()) {
    const { config } = worker;
    const env = { ...config.vars, ...vars, ...worker.storageEnv };
    if (config.ai?.binding) env[config.ai.binding] = ai;
    for (const service of config.services ?? []) {
      const target = workers.get(service.service);
      if (!target) throw new Error(`${config.name}: service binding ${service.binding} names "${service.service}", which is not among the configs given to the host`);
      env[service.binding] = serviceBinding(target, service.entrypoint ?? 'Default', faults);
    }
    await worker.start(env);
    const t = worker.timings;
    say(`${config.name}: Pyodide ${t.pyodideMs.toFixed(0)} ms, packages ${t.packagesMs.toFixed(0)} ms, import ${t.importMs.toFixed(0)} ms; entrypoints ${Object.keys(worker.entrypoints).join(', ')}`);
  }
  return { primary: workers.get(loaded[0].name), workers, dispose: () => Promise.all(disposers.map((d) => d())) };
}

async function main() {
  if (typeof WebAssembly.Suspending !== 'function') {
    console.error('[devhost] this Node has no WebAssembly.Suspending (JSPI): use Node >= 24 with --experimental-wasm-jspi');
    process.exit(2);
  }
  const options = parseHostOptions();
  const bootStarted = performance.now();
  const recorder = new AiRecorder(process.env);
  const ai = new Ai(recorder);
  const faults = new Faults();
  const analyticsPoints = [];
  const instance = hostInstance();
  const { primary, workers, dispose } = await startWorkers(options, ai, faults, analyticsPoints);
  const startupMs = Math.round(performance.now() - bootStarted);

  const server = http.createServer(async (req, res) => {
    res.socket?.setNoDelay(true);
    if (req.url.startsWith(CONTROL_PREFIX)) return control(req, res, { recorder, faults, workers, analyticsPoints, instance }).catch((err) => {
      console.error(`[devhost] control ${req.url} failed: ${err?.message ?? err}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'internal_error', message: String(err?.message ?? err) } }));
    });
    const begun = performance.now();
    const ctx = new ExecutionContext();
    let response;
    try {
      response = await primary.call('Default', 'fetch', [toRequest(req, `http://${req.headers.host ?? 'localhost'}`)], ctx);
    } catch (err) {
      console.error(`[${primary.name}] Uncaught exception in fetch:\n${err?.message ?? err}`);
      response = new Response('Worker threw exception', { status: 500, headers: { 'content-type': 'text/plain' } });
    }
    const line = `${req.method} ${req.url} ${response.status} ${response.statusText || http.STATUS_CODES[response.status] || ''}`;
    await sendResponse(req, res, response);
    console.log(`[wrangler:info] ${line} (${Math.round(performance.now() - begun)}ms)`);
  });

  server.listen(options.port, options.ip, () => {
    const { port } = server.address();
    say(`started in ${startupMs} ms; state in ${path.relative(PROJECT_ROOT, options.stateDir) || '.'}`);
    recordServedHost(options.stateDir, options.ip, port, instance);
    console.log(`[devhost] Ready on http://${options.ip}:${port}`);
  });

  const stop = async () => {
    server.close();
    await dispose();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err) => {
  console.error(`[devhost] failed to start: ${err?.stack ?? err}`);
  process.exit(1);
});
