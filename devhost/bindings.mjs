// Real local D1, KV, R2 and Analytics Engine from wrangler's getPlatformProxy, persisted
// where `wrangler dev` keeps them, and handed to Python under the constructor names workerd
// gives them: the SDK picks its binding wrappers by those names.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { getPlatformProxy } from 'wrangler';

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

// D1 with statements kept on this side until they run. Every touch of a getPlatformProxy
// object is a synchronous round trip to workerd, and Pyodide touches an object many times as
// it wraps it; so prepare() and bind() build plain objects here and only running a statement
// (or a batch) reaches the real database: one call, as on Cloudflare.
class D1PreparedStatement {
  constructor(database, sql, params = []) {
    this.database = database;
    this.sql = sql;
    this.params = params;
  }

  bind(...params) {
    return new D1PreparedStatement(this.database, this.sql, params);
  }

  real(prepared = new Map()) {
    if (!prepared.has(this.sql)) prepared.set(this.sql, this.database.real.prepare(this.sql));
    const statement = prepared.get(this.sql);
    return this.params.length ? statement.bind(...this.params) : statement;
  }

  async first(column) {
    this.database.check('first', this.sql);
    return column === undefined ? this.real().first() : this.real().first(column);
  }

  async all() {
    this.database.check('all', this.sql);
    return this.real().all();
  }

  async run() {
    this.database.check('run', this.sql);
    return this.real().run();
  }

  async raw(options) {
    this.database.check('raw', this.sql);
    return this.real().raw(options);
  }
}

// Analytics Engine. Locally, wrangler's dataset discards every point (there is nothing to query
// them with), at the cost of a synchronous round trip a point. This one checks each point
// against Analytics Engine's limits, as Cloudflare would, and keeps the last ones in memory
// for the host's /__devhost/analytics route.
const AE_MAX_BLOBS = 20;
const AE_MAX_DOUBLES = 20;
const AE_MAX_BLOB_BYTES = 16 * 1024;
const AE_MAX_INDEX_BYTES = 96;
const AE_KEPT_POINTS = 10_000;

class AnalyticsEngineDataset {
  constructor(dataset, points, faults, faultPrefix) {
    this.dataset = dataset;
    this.points = points;
    this.faults = faults;
    this.faultPrefix = faultPrefix;
  }

  writeDataPoint(point = {}) {
    this.faults?.check(`${this.faultPrefix}.writeDataPoint`);
    const { indexes = [], blobs = [], doubles = [] } = point;
    const bytes = (value) => (value == null ? 0 : typeof value === 'string' ? Buffer.byteLength(value) : value.byteLength);
    if (indexes.length > 1) throw new TypeError('Analytics Engine takes at most one index a data point');
    if (indexes.some((index) => bytes(index) > AE_MAX_INDEX_BYTES)) throw new TypeError(`An index is at most ${AE_MAX_INDEX_BYTES} bytes`);
    if (blobs.length > AE_MAX_BLOBS || doubles.length > AE_MAX_DOUBLES) throw new TypeError(`At most ${AE_MAX_BLOBS} blobs and ${AE_MAX_DOUBLES} doubles a data point`);
    if (blobs.reduce((sum, blob) => sum + bytes(blob), 0) > AE_MAX_BLOB_BYTES) throw new TypeError('Blobs total at most 16 KiB a data point');
    if (doubles.some((value) => typeof value !== 'number')) throw new TypeError('Doubles must be numbers');
    this.points.push({ dataset: this.dataset, at: new Date().toISOString(), indexes: [...indexes], blobs: [...blobs], doubles: [...doubles] });
    if (this.points.length > AE_KEPT_POINTS) this.points.splice(0, this.points.length - AE_KEPT_POINTS);
  }
}

// R2, with what it returns copied into local objects of the classes workerd returns
// (R2Object, R2ObjectBody, R2Objects): Pyodide inspects a returned object property by
// property, and on a getPlatformProxy object each look is a synchronous round trip.
const R2_OBJECT_FIELDS = ['key', 'version', 'size', 'etag', 'httpEtag', 'uploaded', 'httpMetadata', 'customMetadata', 'range', 'checksums', 'storageClass'];

class R2Object {
  constructor(real) {
    for (const field of R2_OBJECT_FIELDS) {
      const value = real[field];
      this[field] = value && typeof value === 'object' && !(value instanceof Date) ? { ...value } : value;
    }
  }
}

class R2ObjectBody extends R2Object {
  #real;

  constructor(real) {
    super(real);
    this.#real = real;
  }

  // Read on demand: touching the proxied body marks it used.
  get body() {
    return this.#real.body;
  }

  get bodyUsed() {
    return this.#real.bodyUsed;
  }

  text() {
    return this.#real.text();
  }

  json() {
    return this.#real.json();
  }

  arrayBuffer() {
    return this.#real.arrayBuffer();
  }

  bytes() {
    return this.#real.arrayBuffer().then((buffer) => new Uint8Array(buffer));
  }

  blob() {
    return this.#real.blob();
  }
}

class R2Objects {
  constructor(real) {
    this.objects = [...real.objects].map((object) => new R2Object(object));
    this.truncated = real.truncated;
    this.cursor = real.cursor;
    this.delimitedPrefixes = [...(real.delimitedPrefixes ?? [])];
  }
}

class R2Bucket {
  constructor(real, faults, faultPrefix) {
    this.real = real;
    this.faults = faults;
    this.faultPrefix = faultPrefix;
  }

  check(method, key) {
    this.faults?.check(`${this.faultPrefix}.${method}`, typeof key === 'string' ? key : '');
  }

  async head(key) {
    this.check('head', key);
    const found = await this.real.head(key);
    return found ? new R2Object(found) : null;
  }

  async get(key, options) {
    this.check('get', key);
    const found = await (options === undefined ? this.real.get(key) : this.real.get(key, options));
    if (!found) return null;
    return typeof found.text === 'function' ? new R2ObjectBody(found) : new R2Object(found);
  }

  async put(key, value, options) {
    this.check('put', key);
    const stored = await (options === undefined ? this.real.put(key, value) : this.real.put(key, value, options));
    return stored ? new R2Object(stored) : null;
  }

  async delete(keys) {
    this.check('delete', Array.isArray(keys) ? keys.join('\n') : keys);
    return this.real.delete(keys);
  }

  async list(options) {
    this.check('list', options?.prefix);
    return new R2Objects(await (options === undefined ? this.real.list() : this.real.list(options)));
  }
}

class D1Database {
  constructor(real, faults, faultPrefix) {
    this.real = real;
    this.faults = faults;
    this.faultPrefix = faultPrefix;
  }

  check(method, sql = '') {
    this.faults?.check(`${this.faultPrefix}.${method}`, sql);
  }

  prepare(sql) {
    return new D1PreparedStatement(this, sql);
  }

  async batch(statements) {
    this.check('batch', [...statements].map((statement) => statement.sql).join('\n'));
    const prepared = new Map(); // one prepare per distinct SQL: each is a round trip here
    return this.real.batch([...statements].map((statement) => statement.real(prepared)));
  }

  async exec(sql) {
    this.check('exec', sql);
    return this.real.exec(sql);
  }
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
