// The JavaScript baselines of `make bench` (scripts/bench.py). /bare answers a fixed body: the
// JavaScript floor. Every other path makes the same binding calls, in the same order, as the
// project's route it is named after (SQL copied from inference_worker/inference/store/d1.py and
// inference/counter.py), in one JavaScript worker with no RPC hop: what the route would cost
// written in JavaScript. Admission is a call to the key's counter (a Durable Object with the same
// SQL as the project's KeyCounter), reads' and event batches' from slots taken ahead as the
// project's (shared/leases.py); events are sent in a queue message whose consumer (this worker's
// queue handler) stores them in R2 and indexes them in D1, as the project's do. Credentials are
// taken as valid (the project caches verified keys per isolate too).
import { DurableObject } from 'cloudflare:workers';

const KEY_ID = 'key_bench';
const USAGE_FIELDS = ['requests', 'prompt_tokens', 'completion_tokens', 'cache_hits', 'events', 'cost_usd'];
const USAGE_TODAY_SQL = `SELECT requests, prompt_tokens, completion_tokens, cache_hits, events, cost_usd
FROM usage_daily WHERE key_id = ?1 AND day = ?2`;
const RECORD_USAGE_SQL = `INSERT INTO usage_daily (key_id, day, requests, prompt_tokens, completion_tokens, cache_hits)
VALUES (?1, ?2, 1, ?3, ?4, ?5) ON CONFLICT (key_id, day) DO UPDATE SET requests = requests + 1,
prompt_tokens = prompt_tokens + excluded.prompt_tokens, completion_tokens = completion_tokens + excluded.completion_tokens,
cache_hits = cache_hits + excluded.cache_hits`;
const RECORD_CALL_SQL = `INSERT INTO ai_calls (key_id, ts, model, kind, outcome, latency_ms, ttft_ms, prompt_tokens, completion_tokens)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)`;
const BUMP_VERSION_SQL = `INSERT INTO analytics_versions (key_id, version) VALUES (?1, 1)
ON CONFLICT (key_id) DO UPDATE SET version = version + 1`;
const INSERT_EVENTS_SQL = `INSERT OR IGNORE INTO events (key_id, id, type, name, component, session_id, user_id, ts, props_json, batch_id)
SELECT ?1, json_extract(value, '$.id'), json_extract(value, '$.type'), json_extract(value, '$.name'),
json_extract(value, '$.component'), json_extract(value, '$.session_id'), json_extract(value, '$.user_id'),
json_extract(value, '$.ts'), json_extract(value, '$.properties'), ?2 FROM json_each(?3)`;
const COUNT_BATCH_SQL = `INSERT INTO usage_daily (key_id, day, events) SELECT ?1, ?2, COUNT(*) FROM events
WHERE key_id = ?1 AND batch_id = ?3 AND NOT EXISTS (SELECT 1 FROM batches WHERE id = ?3 AND indexed_at IS NOT NULL)
ON CONFLICT (key_id, day) DO UPDATE SET events = events + excluded.events`;
const ROLLUP_BATCH_SQL = `INSERT INTO event_rollups (key_id, hour, type, component, count)
SELECT ?1, ts - ts % 3600000, type, COALESCE(component, ''), COUNT(*) FROM events
WHERE key_id = ?1 AND batch_id = ?2 AND NOT EXISTS (SELECT 1 FROM batches WHERE id = ?2 AND indexed_at IS NOT NULL)
GROUP BY ts - ts % 3600000, type, COALESCE(component, '')
ON CONFLICT (key_id, hour, type, component) DO UPDATE SET count = count + excluded.count`;
const MARK_INDEXED_SQL = `INSERT INTO batches (id, key_id, r2_key, received_at, indexed_at, received) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
ON CONFLICT (id) DO UPDATE SET indexed_at = COALESCE(batches.indexed_at, excluded.indexed_at), received = excluded.received`;

const MODELS = JSON.stringify({
  object: 'list',
  data: ['@cf/meta/llama-3.1-8b-instruct-fast', '@cf/meta/llama-3.3-70b-instruct-fp8-fast', '@cf/mistralai/mistral-small-3.1-24b-instruct',
    '@cf/baai/bge-small-en-v1.5', '@cf/baai/bge-base-en-v1.5', '@cf/baai/bge-large-en-v1.5']
    .map((id) => ({ id, object: 'model', created: 0, owned_by: id.split('/')[1] })),
});
const json = (body, status = 200) => new Response(typeof body === 'string' ? body : JSON.stringify(body),
  { status, headers: { 'content-type': 'application/json' } });

// The project's KeyCounter, in JavaScript: a request's window count and today's usage, in one call.
export class KeyCounter extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec('CREATE TABLE IF NOT EXISTS windows (start INTEGER PRIMARY KEY, count INTEGER NOT NULL)');
    this.sql.exec(`CREATE TABLE IF NOT EXISTS days (day TEXT PRIMARY KEY, ${USAGE_FIELDS.map((f) => `${f} REAL NOT NULL DEFAULT 0`).join(', ')})`);
  }

  async today(keyId, day) {
    let [row] = this.sql.exec('SELECT * FROM days WHERE day = ?', day).toArray();
    if (!row) {
      const seeded = (await this.env.DB.prepare(USAGE_TODAY_SQL).bind(keyId, day).first()) ?? {};
      this.sql.exec(`INSERT OR IGNORE INTO days (day, ${USAGE_FIELDS.join(', ')}) VALUES (?, ${USAGE_FIELDS.map(() => '?').join(', ')})`,
        day, ...USAGE_FIELDS.map((f) => seeded[f] ?? 0));
      this.sql.exec('DELETE FROM days WHERE day < ?', day);
      [row] = this.sql.exec('SELECT * FROM days WHERE day = ?', day).toArray();
    }
    return Object.fromEntries(USAGE_FIELDS.map((f) => [f, row[f]]));
  }

  async count(keyId, windowStart, day, reserve = 1, limit = 0) {
    const [row] = this.sql.exec('SELECT count FROM windows WHERE start = ?', windowStart).toArray();
    const current = row?.count ?? 0;
    const taken = limit > 0 ? Math.max(1, Math.min(reserve, limit - current)) : 1;
    const { count } = this.sql.exec('INSERT INTO windows (start, count) VALUES (?, ?) ON CONFLICT (start) DO UPDATE SET count = count + excluded.count RETURNING count', windowStart, taken).one();
    if (count === taken) this.sql.exec('DELETE FROM windows WHERE start < ?', windowStart);
    return JSON.stringify({ count, taken, used: await this.today(keyId, day) });
  }

  async add(keyId, day, delta) {
    await this.today(keyId, day);
    const changes = Object.entries(JSON.parse(delta)).filter(([f]) => USAGE_FIELDS.includes(f));
    if (changes.length) this.sql.exec(`UPDATE days SET ${changes.map(([f]) => `${f} = ${f} + ?`).join(', ')} WHERE day = ?`, ...changes.map(([, v]) => v), day);
  }
}

const counter = (env) => env.KEY_COUNTER.get(env.KEY_COUNTER.idFromName(KEY_ID));
const today = (ms = Date.now()) => new Date(ms).toISOString().slice(0, 10);

async function admit(env) {
  const now = Math.floor(Date.now() / 1000);
  return JSON.parse(await counter(env).count(KEY_ID, now - (now % 60), today())).count;
}

// A read's or an event batch's admission as the project does it (shared/leases.py): slots taken
// ahead while the window has plenty left, used by the next requests without a call.
const LIMIT = 3000;  // the enterprise tier's requests a minute (the bench's key)
const lease = { windowEnd: 0, left: 0, remaining: 0 };
async function admitAhead(env) {
  const now = Date.now() / 1000;
  if (lease.left > 0 && now < lease.windowEnd) {
    lease.left -= 1;
    lease.remaining -= 1;
    return;
  }
  const windowStart = Math.floor(now) - (Math.floor(now) % 60);
  const ask = now < lease.windowEnd && lease.remaining >= 40 ? 10 : 1;
  const { count, taken } = JSON.parse(await counter(env).count(KEY_ID, windowStart, today(), ask, LIMIT));
  Object.assign(lease, { windowEnd: windowStart + 60, left: taken - 1, remaining: LIMIT - (count - taken + 1) });
}

async function recordCall(env, model, promptTokens, completionTokens) {
  await env.DB.batch([
    env.DB.prepare(RECORD_USAGE_SQL).bind(KEY_ID, new Date().toISOString().slice(0, 10), promptTokens, completionTokens, 0),
    env.DB.prepare(RECORD_CALL_SQL).bind(KEY_ID, Date.now(), model, 'chat', 'ok', 1, 1, promptTokens, completionTokens),
    env.DB.prepare(BUMP_VERSION_SQL).bind(KEY_ID),
  ]);
  await counter(env).add(KEY_ID, today(), JSON.stringify({ prompt_tokens: promptTokens, completion_tokens: completionTokens }));
  env.ANALYTICS.writeDataPoint({ indexes: [KEY_ID], blobs: [model, 'chat', 'ok', 'pro'], doubles: [1, 1, promptTokens, completionTokens] });
}

async function health(env) {
  const token = crypto.randomUUID();
  await Promise.all([
    env.DB.prepare('SELECT 1 AS ok').first(),
    (async () => { await env.CACHE.put(`health:probe:${token}`, token, { expirationTtl: 60 }); await env.CACHE.get(`health:probe:${token}`); })(),
    env.ARCHIVE.head('health/probe'),
    env.ANALYTICS.writeDataPoint({ indexes: ['health'], blobs: ['health', token], doubles: [1] }),
  ]);
  return json({ status: 'ok' });
}

async function events(request, env) {
  await admitAhead(env);
  const raw = await request.json();
  const receivedAt = Date.now();
  const accepted = raw.map((e, i) => ({ id: `e${receivedAt}-${i}`, type: e.type, name: e.name ?? null, component: e.component ?? null,
    session_id: null, user_id: null, ts: e.timestamp ?? receivedAt, properties: e.properties ?? null }));
  const batchId = `b${receivedAt}`;
  const r2Key = `events/${today(receivedAt)}/${batchId}.ndjson`;
  const ndjson = accepted.map((e) => JSON.stringify(e)).join('\n') + '\n';
  const groups = new Map();
  for (const e of accepted) groups.set(`${e.type}\u0000${e.component ?? ''}`, (groups.get(`${e.type}\u0000${e.component ?? ''}`) ?? 0) + 1);
  const header = JSON.stringify({ batchId, keyId: KEY_ID, r2Key, receivedAt, groups: [...groups] });
  await env.EVENT_QUEUE.send(`${header}\n${ndjson}`, { contentType: 'text' });
  return json({ batchId, indexed: false, queued: true, accepted: accepted.length, duplicates: null, rejected: [] }, 202);
}

// The queue consumer: every message's batch stored in R2 and indexed in one D1 transaction, then
// each batch's new events added to the key's counter, and one Analytics Engine point per key,
// type and component for the run.
async function indexBatches(messages, env) {
  const batches = messages.map(({ body }) => {
    const newline = body.indexOf('\n');
    return { ...JSON.parse(body.slice(0, newline)), ndjson: body.slice(newline + 1) };
  });
  await Promise.all(batches.map(({ r2Key, ndjson }) => env.ARCHIVE.put(r2Key, ndjson)));
  const statements = [];
  for (const { batchId, keyId, r2Key, receivedAt, ndjson } of batches) {
    statements.push(env.DB.prepare(INSERT_EVENTS_SQL).bind(keyId, batchId, `[${ndjson.trimEnd().split('\n').join(',')}]`),
      env.DB.prepare(COUNT_BATCH_SQL).bind(keyId, today(receivedAt), batchId),
      env.DB.prepare(ROLLUP_BATCH_SQL).bind(keyId, batchId),
      env.DB.prepare(MARK_INDEXED_SQL).bind(batchId, keyId, r2Key, new Date(receivedAt).toISOString(), new Date().toISOString(), ndjson.split('\n').length - 1),
      env.DB.prepare(BUMP_VERSION_SQL).bind(keyId));
  }
  const results = await env.DB.batch(statements);
  const added = new Map();  // one counter call per key and day
  for (const [i, { keyId, receivedAt }] of batches.entries()) {
    const day = `${keyId}\u0000${today(receivedAt)}`;
    added.set(day, (added.get(day) ?? 0) + results[i * 5].meta.changes);
  }
  for (const [day, events] of added) {
    const [keyId, date] = day.split('\u0000');
    if (events) await counter(env).add(keyId, date, JSON.stringify({ events }));
  }
  const points = new Map();
  for (const { keyId, groups } of batches) {
    for (const [group, count] of groups) points.set(`${keyId}\u0000${group}`, (points.get(`${keyId}\u0000${group}`) ?? 0) + count);
  }
  for (const [point, count] of points) {
    const [keyId, type, component] = point.split('\u0000');
    env.ANALYTICS.writeDataPoint({ indexes: [keyId], blobs: ['event', type, component], doubles: [count] });
  }
  for (const message of messages) message.ack();
}

// The AI SDK's UI message stream, re-encoded from the model's server-sent events, chunk by chunk.
async function chat(request, env, ctx) {
  await admit(env);
  const body = await request.json();
  const text = body.messages.at(-1).parts.map((part) => part.text).join('');
  const model = '@cf/meta/llama-3.1-8b-instruct-fast';
  const stream = await env.AI.run(model, { messages: [{ role: 'user', content: text }], max_tokens: body.maxOutputTokens ?? 1000, stream: true });
  const encoder = new TextEncoder();
  const sse = (chunk) => encoder.encode(`data: ${JSON.stringify(chunk)}\n\n`);
  let buffered = '';
  let usage = { prompt_tokens: 0, completion_tokens: 0 };
  const relay = new TransformStream({
    start(controller) {
      controller.enqueue(sse({ type: 'start', messageId: 'msg-bench' }));
      controller.enqueue(sse({ type: 'text-start', id: 'text-1' }));
    },
    transform(chunk, controller) {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop();
      for (const line of lines) {
        if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
        const event = JSON.parse(line.slice(6));
        if (event.usage) usage = event.usage;
        if (event.response) controller.enqueue(sse({ type: 'text-delta', id: 'text-1', delta: event.response }));
      }
    },
    flush(controller) {
      controller.enqueue(sse({ type: 'text-end', id: 'text-1' }));
      controller.enqueue(sse({ type: 'finish', messageMetadata: { model, usage } }));
      controller.enqueue(encoder.encode('data: [DONE]\n\n'));
      ctx.waitUntil(recordCall(env, model, usage.prompt_tokens, usage.completion_tokens));
    },
  });
  return new Response(stream.pipeThrough(new TextDecoderStream()).pipeThrough(relay),
    { headers: { 'content-type': 'text/event-stream', 'x-vercel-ai-ui-message-stream': 'v1' } });
}

// OpenAI's embeddings answer from Workers AI's, with the usage recorded as the project does.
async function embeddings(request, env) {
  await admit(env);
  const { model, input } = await request.json();
  const texts = Array.isArray(input) ? input : [input];
  const answer = await env.AI.run(model, { text: texts });
  const promptTokens = texts.reduce((sum, text) => sum + Math.max(1, Math.floor(text.length / 4)), 0);
  await recordCall(env, model, promptTokens, 0);
  return json({
    object: 'list',
    data: answer.data.map((embedding, index) => ({ object: 'embedding', index, embedding })),
    model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  });
}

export default {
  async queue(batch, env) {
    await indexBatches(batch.messages, env);
  },

  async fetch(request, env, ctx) {
    const { pathname } = new URL(request.url);
    switch (pathname) {
      case '/bare': return json('{"object":"list","data":[]}');
      case '/health': return health(env);
      case '/v1/models': await admitAhead(env); return json(MODELS);
      case '/graphql': {
        await admitAhead(env);
        const { query } = await request.json();
        return json({ data: { models: query.includes('models') ? JSON.parse(MODELS).data.map(({ id }) => ({ id })) : null } });
      }
      case '/events': return events(request, env);
      case '/stream/chat': return chat(request, env, ctx);
      case '/v1/embeddings': return embeddings(request, env);
      default: return json({ error: { code: 'not_found', message: pathname } }, 404);
    }
  },
};
