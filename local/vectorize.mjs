// A local stand-in for a Vectorize index (`[[vectorize]]`), which wrangler only reaches remotely.
// For local runs only: the deployed config binds the real index. It keeps Vectorize's API shapes
// (insert, upsert, query, queryById, getByIds, deleteByIds, describe) and its limits: the index's
// dimensions, ids and namespaces of at most 64 bytes, 10 KiB of metadata a vector, 1,000 vectors
// a call, topK at most 100 (20 with values or all metadata returned), metadata filters with
// $eq $ne $in $nin $lt $lte $gt $gte, and errors worded as Vectorize's. Vectors persist in a D1
// database of the control worker (in the host's state folder, like the other local bindings);
// a query compares against every vector of the namespace: enough for tests and a dev loop.
//
// Two parts, as for the AI stand-in: `VectorizeBinding` lives in the calling worker's isolate
// (made by local/workerd/vectorize-binding.mjs) and asks `VectorStore`, in the control worker,
// over RPC. No imports and no Node APIs: workerd loads this file.
const MAX_ID_BYTES = 64;
const MAX_METADATA_BYTES = 10_240;
const MAX_VECTORS_PER_CALL = 1_000;
const MAX_TOP_K = 100;
const MAX_TOP_K_WITH_DATA = 20;
const MAX_FILTER_BYTES = 2_048;
const FILTER_OPERATORS = new Set(['$eq', '$ne', '$in', '$nin', '$lt', '$lte', '$gt', '$gte']);
const bytes = (text) => new TextEncoder().encode(text).length;

class VectorizeError extends Error {
  constructor(kind, code, message) {
    super(`${kind} (code = ${code}): ${message}`);
    this.name = 'Error';
  }
}

function checkVectors(vectors, dimensions) {
  if (!Array.isArray(vectors) || vectors.length === 0) throw new VectorizeError('VECTOR_UPSERT_ERROR', 40006, 'no vectors given');
  if (vectors.length > MAX_VECTORS_PER_CALL) {
    throw new VectorizeError('VECTOR_UPSERT_ERROR', 40007, `at most ${MAX_VECTORS_PER_CALL} vectors a call; got ${vectors.length}`);
  }
  return vectors.map((vector) => {
    const id = String(vector.id ?? '');
    if (!id || bytes(id) > MAX_ID_BYTES) throw new VectorizeError('VECTOR_UPSERT_ERROR', 40008, `vector id must be 1 to ${MAX_ID_BYTES} bytes: ${id.slice(0, 80)}`);
    const values = Array.from(vector.values ?? []);
    if (values.length !== dimensions) {
      throw new VectorizeError('VECTOR_UPSERT_ERROR', 40012, `vector ${id} has ${values.length} dimensions; the index has ${dimensions}`);
    }
    if (values.some((v) => typeof v !== 'number' || !Number.isFinite(v))) throw new VectorizeError('VECTOR_UPSERT_ERROR', 40013, `vector ${id} holds a value that is not a finite number`);
    const namespace = vector.namespace ?? null;
    if (namespace !== null && bytes(String(namespace)) > MAX_ID_BYTES) throw new VectorizeError('VECTOR_UPSERT_ERROR', 40009, `namespace of ${id} is over ${MAX_ID_BYTES} bytes`);
    const metadata = vector.metadata ?? null;
    const metadataJson = metadata === null ? null : JSON.stringify(metadata);
    if (metadataJson !== null && bytes(metadataJson) > MAX_METADATA_BYTES) {
      throw new VectorizeError('VECTOR_UPSERT_ERROR', 40010, `metadata of ${id} is over ${MAX_METADATA_BYTES} bytes`);
    }
    return { id, values, namespace, metadataJson };
  });
}

function fieldOf(metadata, path) {
  return path.split('.').reduce((value, key) => (value == null ? undefined : value[key]), metadata);
}

function matchesFilter(metadata, filter) {
  return Object.entries(filter).every(([field, condition]) => {
    const value = fieldOf(metadata ?? {}, field);
    const clauses = condition !== null && typeof condition === 'object' && !Array.isArray(condition) ? condition : { $eq: condition };
    return Object.entries(clauses).every(([op, operand]) => {
      switch (op) {
        case '$eq': return value === operand;
        case '$ne': return value !== operand;
        case '$in': return operand.includes(value);
        case '$nin': return !operand.includes(value);
        case '$lt': return value < operand;
        case '$lte': return value <= operand;
        case '$gt': return value > operand;
        case '$gte': return value >= operand;
        default: return false;
      }
    });
  });
}

function checkFilter(filter) {
  if (filter == null) return null;
  if (bytes(JSON.stringify(filter)) > MAX_FILTER_BYTES) throw new VectorizeError('VECTOR_QUERY_ERROR', 40026, `the filter is over ${MAX_FILTER_BYTES} bytes`);
  for (const condition of Object.values(filter)) {
    if (condition === null || typeof condition !== 'object' || Array.isArray(condition)) continue;
    for (const [op, operand] of Object.entries(condition)) {
      if (!FILTER_OPERATORS.has(op)) throw new VectorizeError('VECTOR_QUERY_ERROR', 40027, `unknown filter operator ${op}`);
      if ((op === '$in' || op === '$nin') && !Array.isArray(operand)) throw new VectorizeError('VECTOR_QUERY_ERROR', 40027, `${op} takes an array`);
    }
  }
  return filter;
}

function score(metric, a, b) {
  let dot = 0;
  let na = 0;
  let nb = 0;
  let squared = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
    squared += (a[i] - b[i]) ** 2;
  }
  if (metric === 'euclidean') return Math.sqrt(squared);
  if (metric === 'dot-product') return dot;
  return dot / (Math.sqrt(na * nb) || 1);
}

const sleep = (ms) => (ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve());

// The index's data, in a D1 database (`db`) of the control worker. One knob, for tests of what
// lands while a write is under way: `writeDelayMs`, how long an insert or upsert waits before
// its vectors are stored (`pendingWrites` counts those waiting).
export class VectorStore {
  constructor(db) {
    this.db = db;
    this.ready = null;
    this.lastMutation = 0;
    this.pendingWrites = 0;
    this.reset();
  }

  configure(update) {
    Object.assign(this.knobs, update);
  }

  reset() {
    this.knobs = { writeDelayMs: 0 };
  }

  // The vectors stored, in one namespace or in all: what a test counts.
  async count(namespace = null) {
    await this.#table();
    const sql = namespace === null
      ? this.db.prepare('SELECT COUNT(*) AS count FROM vectors')
      : this.db.prepare('SELECT COUNT(*) AS count FROM vectors WHERE namespace = ?1').bind(namespace);
    return (await sql.first()).count;
  }

  async #table() {
    this.ready ??= this.db.prepare(`CREATE TABLE IF NOT EXISTS vectors (
      index_name TEXT NOT NULL, id TEXT NOT NULL, namespace TEXT, values_json TEXT NOT NULL, metadata_json TEXT,
      PRIMARY KEY (index_name, id))`).run();
    await this.ready;
  }

  #mutation() {
    this.lastMutation += 1;
    return { mutationId: `local-${Date.now()}-${this.lastMutation}` };
  }

  async write(index, config, vectors, replace) {
    await this.#table();
    const checked = checkVectors(vectors, config.dimensions);
    this.pendingWrites += 1;
    try {
      await sleep(this.knobs.writeDelayMs);
    } finally {
      this.pendingWrites -= 1;
    }
    const verb = replace ? 'INSERT OR REPLACE' : 'INSERT OR IGNORE';
    await this.db.batch(checked.map((v) => this.db.prepare(
      `${verb} INTO vectors (index_name, id, namespace, values_json, metadata_json) VALUES (?1, ?2, ?3, ?4, ?5)`,
    ).bind(index, v.id, v.namespace, JSON.stringify(v.values), v.metadataJson)));
    return this.#mutation();
  }

  async query(index, config, vector, options = {}) {
    await this.#table();
    const values = Array.from(vector ?? []);
    if (values.length !== config.dimensions) {
      throw new VectorizeError('VECTOR_QUERY_ERROR', 40012, `the query vector has ${values.length} dimensions; the index has ${config.dimensions}`);
    }
    const topK = options.topK ?? 5;
    const returnMetadata = options.returnMetadata === true ? 'all' : options.returnMetadata === false ? 'none' : (options.returnMetadata ?? 'none');
    const limit = options.returnValues || returnMetadata === 'all' ? MAX_TOP_K_WITH_DATA : MAX_TOP_K;
    if (!Number.isInteger(topK) || topK < 1 || topK > limit) {
      throw new VectorizeError('VECTOR_QUERY_ERROR', 40025, `topK must be 1 to ${limit}${limit === MAX_TOP_K_WITH_DATA ? ' with returnValues or returnMetadata=all' : ''}; got ${topK}`);
    }
    const filter = checkFilter(options.filter);
    const namespace = options.namespace ?? null;
    const sql = namespace === null
      ? this.db.prepare('SELECT id, namespace, values_json, metadata_json FROM vectors WHERE index_name = ?1').bind(index)
      : this.db.prepare('SELECT id, namespace, values_json, metadata_json FROM vectors WHERE index_name = ?1 AND namespace = ?2').bind(index, namespace);
    const rows = (await sql.all()).results;
    const descending = config.metric !== 'euclidean';
    const matches = rows
      .map((row) => ({ row, metadata: row.metadata_json ? JSON.parse(row.metadata_json) : undefined }))
      .filter(({ metadata }) => !filter || matchesFilter(metadata, filter))
      .map(({ row, metadata }) => {
        const stored = JSON.parse(row.values_json);
        const match = { id: row.id, score: score(config.metric, values, stored) };
        if (row.namespace !== null) match.namespace = row.namespace;
        if (options.returnValues) match.values = stored;
        if (returnMetadata !== 'none' && metadata !== undefined) match.metadata = metadata;
        return match;
      })
      .sort((a, b) => (descending ? b.score - a.score : a.score - b.score))
      .slice(0, topK);
    return { count: matches.length, matches };
  }

  async getByIds(index, ids) {
    await this.#table();
    const rows = (await this.db.prepare(
      'SELECT id, namespace, values_json, metadata_json FROM vectors WHERE index_name = ?1 AND id IN (SELECT value FROM json_each(?2))',
    ).bind(index, JSON.stringify(ids)).all()).results;
    return rows.map((row) => ({ id: row.id, values: JSON.parse(row.values_json), ...(row.namespace !== null ? { namespace: row.namespace } : {}),
      ...(row.metadata_json ? { metadata: JSON.parse(row.metadata_json) } : {}) }));
  }

  async deleteByIds(index, ids) {
    await this.#table();
    if (ids.length > MAX_VECTORS_PER_CALL) throw new VectorizeError('VECTOR_DELETE_ERROR', 40007, `at most ${MAX_VECTORS_PER_CALL} ids a call`);
    await this.db.prepare('DELETE FROM vectors WHERE index_name = ?1 AND id IN (SELECT value FROM json_each(?2))').bind(index, JSON.stringify(ids)).run();
    return this.#mutation();
  }

  async describe(index, config) {
    await this.#table();
    const { count } = await this.db.prepare('SELECT COUNT(*) AS count FROM vectors WHERE index_name = ?1').bind(index).first();
    return { dimensions: config.dimensions, vectorCount: count, processedUpToDatetime: new Date().toISOString(),
      processedUpToMutation: this.lastMutation, config: { dimensions: config.dimensions, metric: config.metric } };
  }
}

// What a worker's env.<binding> is: Vectorize's methods, each asking the store (an RPC stub).
export class VectorizeBinding {
  constructor(store, index, config) {
    this.store = store;
    this.index = index;
    this.config = config;
  }

  insert(vectors) { return this.store.write(this.index, this.config, vectors, false); }

  upsert(vectors) { return this.store.write(this.index, this.config, vectors, true); }

  query(vector, options) { return this.store.query(this.index, this.config, Array.from(vector), options); }

  async queryById(id, options) {
    const [found] = await this.store.getByIds(this.index, [id]);
    if (!found) return { count: 0, matches: [] };
    return this.query(found.values, options);
  }

  getByIds(ids) { return this.store.getByIds(this.index, ids); }

  deleteByIds(ids) { return this.store.deleteByIds(this.index, ids); }

  describe() { return this.store.describe(this.index, this.config); }
}
