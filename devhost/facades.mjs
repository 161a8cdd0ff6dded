// Binding objects with the class names workerd gives (the SDK picks its wrappers by them),
// in front of wrangler's getPlatformProxy bindings. Every touch of a proxy object is a
// synchronous round trip to workerd, and Pyodide touches an object many times as it wraps it,
// so these keep what they can on this side: statements until they run, results as plain copies.
// Each method can be made to fail through the host's fault rules ("<worker>.<binding>.<method>").
import { currentInvocation } from './invocation.mjs';

// D1: prepare() and bind() build plain objects here; only running a statement (or a batch)
// reaches the real database, in one call, as on Cloudflare.
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

// Analytics Engine: wrangler's local dataset discards every point (there is nothing to query
// them with locally). This one checks each point against Analytics Engine's limits, as
// Cloudflare would (including the 25 writes an invocation, past which Cloudflare throws), and
// keeps the last ones for the host's /__devhost/analytics route.
const AE_MAX_BLOBS = 20;
const AE_MAX_DOUBLES = 20;
const AE_MAX_BLOB_BYTES = 16 * 1024;
const AE_MAX_INDEX_BYTES = 96;
const AE_KEPT_POINTS = 10_000;
const AE_WRITES_PER_INVOCATION = 25;
const writesByInvocation = new WeakMap();

export class AnalyticsEngineDataset {
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
    const invocation = currentInvocation.getStore();
    if (invocation) {
      const writes = (writesByInvocation.get(invocation) ?? 0) + 1;
      writesByInvocation.set(invocation, writes);
      if (writes > AE_WRITES_PER_INVOCATION) throw new Error('Analytics Engine write limit exceeded.');
    }
    this.points.push({ dataset: this.dataset, at: new Date().toISOString(), indexes: [...indexes], blobs: [...blobs], doubles: [...doubles] });
    if (this.points.length > AE_KEPT_POINTS) this.points.splice(0, this.points.length - AE_KEPT_POINTS);
  }
}

// R2: what it returns is copied into local objects of the classes workerd returns
// (R2Object, R2ObjectBody, R2Objects), which Pyodide can inspect without round trips.
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

export class R2Bucket {
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

export class D1Database {
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
