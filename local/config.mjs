// What the host needs to know about one worker, read from its wrangler config the way
// wrangler reads it: name, main module, bundle folder, vars (+ .dev.vars), bindings and where its
// vendored packages are.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { unstable_readConfig } from 'wrangler';

export const PROJECT_ROOT = path.resolve(new URL('..', import.meta.url).pathname);

function nearestPyproject(dir) {
  for (let current = dir; ; current = path.dirname(current)) {
    if (fs.existsSync(path.join(current, 'pyproject.toml'))) return path.join(current, 'pyproject.toml');
    if (current === path.dirname(current)) return null;
  }
}

function parseDevVars(file) {
  if (!fs.existsSync(file)) return {};
  const vars = {};
  for (const line of fs.readFileSync(file, 'utf8').split(/\r?\n/)) {
    const match = line.match(/^\s*([\w.-]+)\s*=\s*(.*)?\s*$/);
    if (!match || line.trimStart().startsWith('#')) continue;
    vars[match[1]] = (match[2] ?? '').replace(/^(['"])(.*)\1$/, '$2');
  }
  return vars;
}

// `spec` is a config's path, or `path@name`: a secondary inference backend of that config (how a
// second one runs locally: `-c inference_worker/wrangler.toml@inference-service-2`), its config
// written by scripts/bindings.py as deploy writes it (without the primary's queue consumers and
// Durable Object classes; its counters bound to the primary's).
export function readWorkerConfig(spec) {
  const at = spec.lastIndexOf('@');
  let configPath = spec;
  if (at > spec.lastIndexOf(path.sep)) {
    const written = spawnSync('python3', [path.join(PROJECT_ROOT, 'scripts', 'bindings.py'), '--secondary', spec.slice(at + 1)],
      { cwd: PROJECT_ROOT, encoding: 'utf8' });
    if (written.status !== 0) throw new Error(`the config of ${spec} could not be written: ${written.stderr}`);
    configPath = written.stdout.trim();
  }
  const config = unstable_readConfig({ config: configPath });
  const configDir = path.dirname(path.resolve(configPath));
  const main = path.resolve(config.main);
  const baseDir = config.base_dir ? path.resolve(config.base_dir) : path.dirname(main);
  // JavaScript workers serve only as the benchmark's baselines (bench/js), on workerd.
  const language = main.endsWith('.py') ? 'python' : /\.m?js$/.test(main) ? 'javascript' : null;
  if (!language) throw new Error(`${configPath}: main must be a .py (or, for bench/, a .mjs) file`);
  const pyproject = nearestPyproject(configDir);
  return {
    ...config,
    language,
    configPath: path.resolve(configPath),
    configDir,
    baseDir,
    mainModule: path.relative(baseDir, main).slice(0, -3).split(path.sep).join('.'),
    // Where setup vendors that pyproject's packages (next to the config, for a deployed worker).
    pythonModules: pyproject ? path.join(path.dirname(pyproject), 'python_modules') : null,
    // Like wrangler dev: [vars] overlaid by .dev.vars next to the config (secrets live there).
    vars: { ...config.vars, ...parseDevVars(path.join(configDir, '.dev.vars')) },
  };
}

// The host's options, as `wrangler dev` spells them (and --instrumented, --profile, --memory).
export function parseHostOptions() {
  const { values } = parseArgs({
    options: {
      config: { type: 'string', short: 'c', multiple: true },
      port: { type: 'string', default: process.env.PORT ?? '8787' },
      ip: { type: 'string', default: '127.0.0.1' },
      'persist-to': { type: 'string', default: path.join(PROJECT_ROOT, '.wrangler', 'state') },
      var: { type: 'string', multiple: true },
      instrumented: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      memory: { type: 'boolean', default: false },
      'inspector-port': { type: 'string' },
      // Snapshots (scripts/snapshots.py): extra compatibility flags for every Python worker, workerd's
      // snapshot arguments, a socket serving one entrypoint to another workerd process (JS RPC
      // over Cap'n Proto), a service binding answered by such a socket, no [build] step.
      'compat-flag': { type: 'string', multiple: true },
      'python-snapshot-dir': { type: 'string' },
      'python-save-snapshot': { type: 'boolean', default: false },
      'python-save-baseline-snapshot': { type: 'boolean', default: false },
      'python-load-snapshot': { type: 'string' },
      'rpc-socket': { type: 'string', multiple: true },
      'remote-service': { type: 'string', multiple: true },
      'no-build': { type: 'boolean', default: false },
      'no-migrations': { type: 'boolean', default: false },
      'build-only': { type: 'boolean', default: false },
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
    instrumented: values.instrumented,
    profile: values.profile,
    memory: values.memory,
    inspectorPort: values['inspector-port'] === undefined ? undefined : Number(values['inspector-port']),
    compatFlags: values['compat-flag'] ?? [],
    // workerd's own snapshot flags, as workerd spells them (they apply to the whole process).
    pythonSnapshotArgs: [
      ...(values['python-snapshot-dir'] ? [`--python-snapshot-dir=${path.resolve(values['python-snapshot-dir'])}`] : []),
      ...(values['python-save-snapshot'] ? ['--python-save-snapshot'] : []),
      ...(values['python-save-baseline-snapshot'] ? ['--python-save-baseline-snapshot'] : []),
      ...(values['python-load-snapshot'] ? [`--python-load-snapshot=${values['python-load-snapshot']}`] : []),
    ],
    rpcSockets: (values['rpc-socket'] ?? []).map(parseRpcSocket),
    remoteServices: Object.fromEntries((values['remote-service'] ?? []).map(parseRemoteService)),
    build: !values['no-build'],
    migrations: !values['no-migrations'],
    buildOnly: values['build-only'],
  };
}

// WORKER:ENTRYPOINT@PORT: a socket on 127.0.0.1:PORT serving that entrypoint of that worker.
function parseRpcSocket(item) {
  const match = item.match(/^([^:@]+):([^:@]+)@(\d+)$/);
  if (!match) throw new Error(`--rpc-socket takes WORKER:ENTRYPOINT@PORT, got ${item}`);
  return { worker: match[1], entrypoint: match[2], port: Number(match[3]) };
}

// [WORKER/]BINDING=HOST:PORT: that service binding, in every worker that has it (or in WORKER's
// alone), answered by an --rpc-socket of another workerd process.
function parseRemoteService(item) {
  const at = item.indexOf('=');
  if (at < 1) throw new Error(`--remote-service takes [WORKER/]BINDING=HOST:PORT, got ${item}`);
  return [item.slice(0, at), item.slice(at + 1)];
}

// wrangler runs [build].command before dev and deploy; so does the host.
export function runBuild(config) {
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
