// The local-only companion worker of the workerd host: it keeps the Workers AI stand-in's
// knobs and record of calls (the AI bindings, in the workers' own isolates, ask it how to
// answer each call: ai-plugin.mjs), the injected faults and the Analytics Engine points of an
// instrumented host (instrumented-plugin.mjs), and serves the host's control routes under
// /__devhost/ (routed here by the host; never part of a deployed worker).
import { WorkerEntrypoint } from 'cloudflare:workers';
import { Ai, AiRecorder } from '../ai.mjs';
import { VectorStore } from '../vectorize.mjs';
import { Faults } from '../faults.mjs';
import { IDENTITY_ROUTE, NOT_JSON, isJson } from '../control-guard.mjs';

// One recorder for the isolate: the calls the AI bindings report and the knobs the control
// routes set are the same object's.
let recorder;
const recorderFor = (env) => (recorder ??= new AiRecorder(env));

export class AiRecorderEntrypoint extends WorkerEntrypoint {
  begin(model, stream, worker, options, gateway) {
    return recorderFor(this.env).begin(model, stream, worker, options, gateway);
  }

  mark(id, outcome) {
    recorderFor(this.env).mark(id, outcome);
  }
}

// The injected faults, which the guarded bindings ask about each call (guarded-binding.mjs).
const faults = new Faults();

export class FaultsEntrypoint extends WorkerEntrypoint {
  // The message of the failure to throw, or null: go ahead.
  check(target, detail) {
    return faults.check(target, detail);
  }
}

// The Analytics Engine points the instrumented datasets wrote (analytics-binding.mjs), the latest
// 10,000 (a long session must not grow without bound).
const KEPT_POINTS = 10_000;
const analyticsPoints = [];

export class AnalyticsEntrypoint extends WorkerEntrypoint {
  record(point) {
    analyticsPoints.push(point);
    if (analyticsPoints.length > KEPT_POINTS) analyticsPoints.splice(0, analyticsPoints.length - KEPT_POINTS);
  }
}

// The Vectorize stand-in's data, for every index of every worker (local/vectorize.mjs).
let vectorStore;
const storeFor = (env) => (vectorStore ??= new VectorStore(env.VECTOR_STORE));

export class VectorStoreEntrypoint extends WorkerEntrypoint {
  write(index, config, vectors, replace) {
    return storeFor(this.env).write(index, config, vectors, replace);
  }

  query(index, config, vector, options) {
    return storeFor(this.env).query(index, config, vector, options);
  }

  getByIds(index, ids) {
    return storeFor(this.env).getByIds(index, ids);
  }

  deleteByIds(index, ids) {
    return storeFor(this.env).deleteByIds(index, ids);
  }

  describe(index, config) {
    return storeFor(this.env).describe(index, config);
  }
}

const json = (body, status = 200) => Response.json(body, { status });

async function control(request, env) {
  const url = new URL(request.url);
  const route = url.pathname.slice('/__devhost/'.length);
  const ai = recorderFor(env);
  if (request.method === 'POST' && !isJson(request.headers.get('content-type'))) return json(NOT_JSON, 415);
  if (route === 'ai/run' && request.method === 'POST') {
    // The stand-in called directly, with no worker in between: the baseline for `make bench`.
    const { model, inputs } = await request.json();
    const output = await new Ai(ai).run(model, inputs);
    return output instanceof ReadableStream ? new Response(output, { headers: { 'content-type': 'text/event-stream' } }) : json(output);
  }
  if (route === 'openai/v1/chat/completions' && request.method === 'POST') return provider(request, ai);
  if (route === 'ai') {
    if (request.method === 'POST') ai.configure(await request.json());
    if (request.method === 'DELETE') ai.reset();
    return json({ knobs: ai.knobs, calls: ai.calls });
  }
  if (route === 'vectorize') {
    // The Vectorize stand-in: its knobs, the writes waiting on them, and the vectors stored
    // (?namespace=: in one namespace, a caller's key id).
    const store = storeFor(env);
    if (request.method === 'POST') store.configure(await request.json());
    if (request.method === 'DELETE') store.reset();
    const namespace = url.searchParams.get('namespace');
    return json({ knobs: store.knobs, pendingWrites: store.pendingWrites, vectors: await store.count(namespace) });
  }
  if ((route === 'faults' || route === 'analytics') && !env.INSTRUMENTED) {
    return json({ error: { code: 'not_found', message: `/__devhost/${route} needs a host started with --instrumented` } }, 404);
  }
  if (route === 'faults') {
    // {"target", "message", "count", "match"} (local/faults.mjs); DELETE clears them.
    if (request.method === 'POST') faults.add(await request.json());
    if (request.method === 'DELETE') faults.clear();
    return json({ rules: faults.rules });
  }
  if (route === 'analytics') {
    if (request.method === 'DELETE') analyticsPoints.length = 0;
    return json({ points: analyticsPoints });
  }
  if (route === 'profile' && request.method === 'POST') {
    // On a host started with --profile: {"action": "start"}, then {"action": "stop", "top": 30,
    // "sort": "tottime"} answers each Python worker's busiest functions (local/workerd/profiler.py).
    const { action, top = 30, sort = 'tottime' } = await request.json();
    if (!env.PROFILED.length) return json({ error: { code: 'not_found', message: 'start the host with --profile to profile' } }, 404);
    const profiles = {};
    for (const name of env.PROFILED) profiles[name] = action === 'stop' ? await env[`PROFILER:${name}`].stop(top, sort) : await env[`PROFILER:${name}`].start();
    return json({ profiles });
  }
  if (route === 'memory' && request.method === 'GET') {
    // On a host started with --memory: each Python worker's isolate, as its MemoryProbe reads it
    // (local/workerd/memory.py): {"workers": {name: {"wasm_bytes"}}}.
    if (!env.MEMORY_PROBED.length) return json({ error: { code: 'not_found', message: 'start the host with --memory to read memory' } }, 404);
    const workers = {};
    for (const name of env.MEMORY_PROBED) workers[name] = JSON.parse(await env[`MEMORY:${name}`].read());
    return json({ workers });
  }
  if (route === 'scheduled' && request.method === 'POST') {
    // Like wrangler dev's /__scheduled: fire the cron trigger of every worker that has one.
    const fired = {};
    for (const [name, cron] of Object.entries(env.CRONS)) {
      const result = await env[`SCHEDULED:${name}`].scheduled({ cron, scheduledTime: new Date() });
      fired[name] = result.outcome;
    }
    return json({ fired });
  }
  const queue = route.match(/^queues\/([^/]+)$/);
  if (queue && request.method === 'POST') {
    const producer = env[`QUEUE:${queue[1]}`];
    if (!producer) return json({ error: { code: 'not_found', message: `no worker produces to queue ${queue[1]}` } }, 404);
    await producer.send((await request.json()).body);
    return json({ sent: true });
  }
  const r2 = route.match(/^r2\/([^/]+)\/([^/]+)$/);
  if (r2 && request.method === 'PUT') {
    const bucket = env[`R2:${r2[1]}:${r2[2]}`];
    if (!bucket) return json({ error: { code: 'not_found', message: `no R2 binding ${r2[2]} in ${r2[1]}` } }, 404);
    // ?metadata={...}: the object's custom metadata, as a worker's put would set it.
    const customMetadata = JSON.parse(url.searchParams.get('metadata') ?? '{}');
    await bucket.put(url.searchParams.get('key'), await request.text(), { customMetadata });
    return json({ stored: true });
  }
  if (r2 && request.method === 'GET') {
    const bucket = env[`R2:${r2[1]}:${r2[2]}`];
    if (!bucket) return json({ error: { code: 'not_found', message: `no R2 binding ${r2[2]} in ${r2[1]}` } }, 404);
    if (url.searchParams.has('key')) {  // one object's text
      const object = await bucket.get(url.searchParams.get('key'));
      return object ? new Response(await object.text()) : json({ error: { code: 'not_found', message: 'no such object' } }, 404);
    }
    const listing = await bucket.list({ prefix: url.searchParams.get('prefix') ?? '' });
    return json({ keys: listing.objects.map((o) => o.key) });
  }
  if (route === 'status') return json({ runtime: 'workerd', userAgent: navigator.userAgent });
  if (route === IDENTITY_ROUTE && request.method === 'GET') return json({ instance: env.HOST_INSTANCE });
  return json({ error: { code: 'not_found', message: `no control route ${route}` } }, 404);
}

export default {
  fetch(request, env) {
    return control(request, env).catch((err) => json({ error: { code: 'internal_error', message: String(err?.message ?? err) } }, 500));
  },
};

// The external OpenAI-compatible provider the inference worker can route to (PROVIDER_URL), played
// by the same stand-in: any model name, answered as the stand-in's default model would, in
// OpenAI's shapes; its calls are recorded with worker "provider" (and the model, bearer token and
// traceparent the provider was sent); a failure knob with worker "provider" fails it (503, or the
// status its `answer` says, or mid-stream).
const PROVIDER = 'provider';
const STAND_IN_MODEL = '@cf/meta/llama-3.1-8b-instruct-fast';
// Offered tools, it answers as the stand-in's model that calls them in OpenAI's shape.
const STAND_IN_TOOL_MODEL = '@cf/meta/llama-4-scout-17b-16e-instruct';

async function provider(request, recorder) {
  const body = await request.json();
  const created = Math.floor(Date.now() / 1000);
  const id = `chatcmpl-standin-${created}`;
  let output;
  try {
    const tools = body.tools?.length ? { tools: body.tools, tool_choice: body.tool_choice, parallel_tool_calls: body.parallel_tool_calls } : {};
    output = await new Ai(recorder, PROVIDER).run(body.tools?.length ? STAND_IN_TOOL_MODEL : STAND_IN_MODEL,
      { messages: body.messages, max_tokens: body.max_tokens, stream: Boolean(body.stream), ...tools });
  } catch (error) {
    // As the failure knob says ({status, retryAfter, body}), else a 503.
    const answer = error.answer ?? {};
    const headers = answer.retryAfter === undefined ? {} : { 'retry-after': String(answer.retryAfter) };
    const body = answer.body ?? { error: { message: String(error.message ?? error), type: 'server_error' } };
    return Response.json(body, { status: answer.status ?? 503, headers });
  } finally {
    Object.assign(recorder.calls.at(-1) ?? {}, { providerModel: body.model, bearer: (request.headers.get('authorization') ?? '').replace(/^Bearer /, ''),
      traceparent: request.headers.get('traceparent') });
  }
  if (!body.stream) {
    const calls = output.tool_calls ?? [];
    const message = calls.length ? { role: 'assistant', content: output.response || null, tool_calls: calls } : { role: 'assistant', content: output.response };
    return json({ id, object: 'chat.completion', created, model: body.model,
      choices: [{ index: 0, message, finish_reason: calls.length ? 'tool_calls' : 'stop' }], usage: output.usage });
  }
  let calledTools = false;
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const chunk = (payload) => encoder.encode(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: body.model, ...payload })}\n\n`);
  let buffer = '';
  const openai = output.pipeThrough(new TransformStream({
    transform(bytes, controller) {
      buffer += decoder.decode(bytes, { stream: true });
      const lines = buffer.split('\n');
      buffer = lines.pop();
      for (const line of lines) {
        const data = line.replace(/^data: ?/, '').trim();
        if (!line.startsWith('data:') || !data) continue;
        if (data === '[DONE]') {
          controller.enqueue(encoder.encode('data: [DONE]\n\n'));
          continue;
        }
        const event = JSON.parse(data);
        if (event.response) controller.enqueue(chunk({ choices: [{ index: 0, delta: { content: event.response }, finish_reason: null }] }));
        const pieces = (event.tool_calls ?? []).filter((c) => c.id || c.function?.name || c.function?.arguments);
        if (pieces.length) {
          calledTools = true;
          controller.enqueue(chunk({ choices: [{ index: 0, delta: { tool_calls: pieces }, finish_reason: null }] }));
        }
        if (event.usage) {
          controller.enqueue(chunk({ choices: [{ index: 0, delta: {}, finish_reason: calledTools ? 'tool_calls' : 'stop' }] }));
          controller.enqueue(chunk({ choices: [], usage: event.usage }));
        }
      }
    },
  }));
  return new Response(openai, { headers: { 'content-type': 'text/event-stream' } });
}
