// The local Python Workers host: `wrangler dev -c a.toml -c b.toml` for machines where workerd
// cannot fetch its Python runtime. Each config becomes a Python Worker in its own Pyodide
// instance with real local bindings; the first one is served over HTTP, the others are
// reachable only through service bindings, as with wrangler dev.
//
//   node --experimental-wasm-jspi devhost/host.mjs [-c wrangler.toml ...] [--port 8787]
//        [--ip 127.0.0.1] [--persist-to .wrangler/state] [--var KEY:VALUE ...]
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { Ai } from './ai.mjs';
import { applyMigrations, hasStorageBindings, storageBindings } from './bindings.mjs';
import { Faults } from './faults.mjs';
import { PROJECT_ROOT, readWorkerConfig } from './config.mjs';
import { ExecutionContext, PythonWorker } from './python-worker.mjs';
import { serviceBinding } from './rpc.mjs';

const CONTROL_PREFIX = '/__devhost/';

function say(text) {
  console.log(`[devhost] ${text}`);
}

function parseOptions() {
  const { values } = parseArgs({
    options: {
      config: { type: 'string', short: 'c', multiple: true },
      port: { type: 'string', default: process.env.PORT ?? '8787' },
      ip: { type: 'string', default: '127.0.0.1' },
      'persist-to': { type: 'string', default: path.join(PROJECT_ROOT, '.wrangler', 'state') },
      var: { type: 'string', multiple: true },
    },
  });
  // Like `wrangler dev --var KEY:VALUE`: overrides [vars] of every worker.
  const vars = Object.fromEntries((values.var ?? []).map((item) => {
    const at = item.search(/[:=]/);
    if (at < 1) throw new Error(`--var takes KEY:VALUE, got ${item}`);
    return [item.slice(0, at), item.slice(at + 1)];
  }));
  return {
    configs: values.config ?? [path.join(PROJECT_ROOT, 'wrangler.toml'), path.join(PROJECT_ROOT, 'inference_worker', 'wrangler.toml')],
    port: Number(values.port),
    ip: values.ip,
    stateDir: path.resolve(values['persist-to']),
    vars,
  };
}

// wrangler runs [build].command before dev and deploy; so does the host.
function runBuild(config) {
  if (!config.build?.command) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const child = spawn(config.build.command, {
      shell: true,
      cwd: config.build.cwd ?? config.configDir,
      stdio: 'inherit',
      // .devhost/bin holds the node (and npm) that scripts/bootstrap.py chose.
      env: { ...process.env, PATH: `${path.join(PROJECT_ROOT, '.devhost', 'bin')}${path.delimiter}${process.env.PATH}` },
    });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`[build] for ${config.name} exited with ${code}`))));
  });
}

async function startWorkers({ configs, stateDir, vars }, ai, faults, analyticsPoints) {
  const loaded = configs.map(readWorkerConfig);
  const workers = new Map();
  const disposers = [];

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
          await applyMigrations(config, stateDir, say);
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

function toRequest(req, origin) {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    for (const item of [].concat(value)) headers.append(name, item);
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  return new Request(new URL(req.url, origin), {
    method: req.method,
    headers,
    body: hasBody ? Readable.toWeb(req) : undefined,
    duplex: hasBody ? 'half' : undefined,
  });
}

async function sendResponse(req, res, response) {
  const headers = {};
  // Answered before the body was read (say, refused as too large): this connection cannot
  // carry another request, so say so rather than leave the client to find out.
  if (!req.complete) headers.connection = 'close';
  for (const [name, value] of response.headers) headers[name] = name === 'set-cookie' ? response.headers.getSetCookie() : value;
  res.writeHead(response.status, response.statusText || http.STATUS_CODES[response.status] || '', headers);
  if (!response.body) return res.end();
  const reader = response.body.getReader();
  res.on('close', () => {
    if (!res.writableFinished) reader.cancel(new Error('client disconnected')).catch(() => {});
  });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      res.write(value);
    }
    res.end();
  } catch (err) {
    console.error(`[devhost] response stream failed: ${err?.message ?? err}`);
    res.destroy(err);
  }
}

async function readJson(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return body ? JSON.parse(body) : {};
}

async function control(req, res, { ai, faults, status, workers, analyticsPoints }) {
  const route = req.url.slice(CONTROL_PREFIX.length).split('?')[0];
  const reply = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (route === 'ai/run' && req.method === 'POST') {
    // The stand-in called directly, with no worker in between: the baseline for `make bench`.
    const { model, inputs } = await readJson(req);
    const output = await ai.run(model, inputs);
    if (output instanceof ReadableStream) return sendResponse(req, res, new Response(output, { headers: { 'content-type': 'text/event-stream' } }));
    return reply(200, output);
  }
  if (route === 'ai') {
    if (req.method === 'POST') ai.configure(await readJson(req));
    if (req.method === 'DELETE') ai.reset();
    return reply(200, { knobs: ai.knobs, calls: ai.calls });
  }
  if (route === 'faults') {
    if (req.method === 'POST') faults.add(await readJson(req));
    if (req.method === 'DELETE') faults.clear();
    return reply(200, { rules: faults.rules });
  }
  if (route === 'scheduled' && req.method === 'POST') {
    // Like wrangler dev's /__scheduled: fire the cron trigger of every worker that has one.
    const fired = {};
    for (const worker of workers.values()) {
      if (!worker.methodsOf('Default').includes('scheduled')) continue;
      const controller = { scheduledTime: Date.now(), cron: worker.config.triggers?.crons?.[0] ?? '', noRetry() {} };
      const ctx = new ExecutionContext();
      await worker.call('Default', 'scheduled', [controller], ctx);
      await ctx.settled();
      fired[worker.name] = 'ok';
    }
    return reply(200, { fired });
  }
  const r2 = route.match(/^r2\/([^/]+)\/([^/]+)$/);
  if (r2 && req.method === 'GET') {
    // What a worker's R2 bucket holds, for tests that check what was written: /__devhost/r2/<worker>/<binding>?prefix=
    const bucket = workers.get(r2[1])?.storageEnv[r2[2]];
    if (!bucket) return reply(404, { error: { code: 'not_found', message: `no R2 binding ${r2[2]} in ${r2[1]}` } });
    const prefix = new URL(req.url, 'http://host').searchParams.get('prefix') ?? '';
    const listing = await bucket.list({ prefix, include: ['customMetadata'] });
    return reply(200, { keys: listing.objects.map((o) => o.key) });
  }
  if (route === 'analytics') {
    // The Analytics Engine points the workers wrote (the latest 10,000); DELETE clears them.
    if (req.method === 'DELETE') analyticsPoints.length = 0;
    return reply(200, { points: analyticsPoints });
  }
  if (route === 'status') return reply(200, status);
  return reply(404, { error: { code: 'not_found', message: `no devhost control route ${route}` } });
}

async function main() {
  if (typeof WebAssembly.Suspending !== 'function') {
    console.error('[devhost] this Node has no JSPI: run it with --experimental-wasm-jspi (Node >= 22.12)');
    process.exit(2);
  }
  const options = parseOptions();
  const bootStarted = performance.now();
  const ai = new Ai();
  const faults = new Faults();
  const analyticsPoints = [];
  const { primary, workers, dispose } = await startWorkers(options, ai, faults, analyticsPoints);
  const status = {
    startupMs: Math.round(performance.now() - bootStarted),
    workers: Object.fromEntries([...workers.values()].map((w) => [w.name, w.timings])),
  };

  const server = http.createServer(async (req, res) => {
    res.socket?.setNoDelay(true);
    if (req.url.startsWith(CONTROL_PREFIX)) return control(req, res, { ai, faults, status, workers, analyticsPoints }).catch((err) => {
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
    say(`started in ${status.startupMs} ms; state in ${path.relative(PROJECT_ROOT, options.stateDir) || '.'}`);
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
