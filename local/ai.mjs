// A local stand-in for the Workers AI binding (`env.AI.run(model, inputs)`): wrangler's own
// AI binding always goes to Cloudflare. It speaks the Workers AI contract for text generation
// (plain, streamed as SSE bytes, JSON mode) and embeddings. Replies are deterministic unless
// DEVHOST_AI_FORWARD_URL names an OpenAI-compatible server to forward to. Latency and failures
// can be injected (env vars or the host's /__devhost/ai control endpoint) for reliability tests.
//
// Two parts, so that the binding can live in the calling worker's isolate, as the real one
// does, while the knobs live where the control routes are: `AiRecorder` (knobs, the queue of
// failures, the calls made) and `Ai` (the binding: asks a recorder, directly or over RPC, how
// to answer each call, then answers it itself). No imports and no Node APIs: workerd loads
// this file too (local/workerd/ai-plugin.mjs).
const TEXT_MODELS = [
  '@cf/meta/llama-3.1-8b-instruct-fast',
  '@cf/meta/llama-3.3-70b-instruct-fp8-fast',
  '@cf/mistralai/mistral-small-3.1-24b-instruct',
  '@cf/meta/llama-4-scout-17b-16e-instruct',
];
const EMBEDDING_MODELS = {
  '@cf/baai/bge-small-en-v1.5': 384,
  '@cf/baai/bge-base-en-v1.5': 768,
  '@cf/baai/bge-large-en-v1.5': 1024,
};
// The guardrails' moderation model: it flags the conversation's last turn when it holds the marker
// word, as violent crimes (Llama Guard's S1), and finds anything else safe.
const MODERATION_MODEL = '@cf/meta/llama-guard-3-8b';
const MODERATION_MARKER = 'unsafe-marker';
const DEFAULT_MAX_TOKENS = 256;
// The sampling options of Workers AI's text models: each call records those it was given, so
// tests can see what reached the binding.
const SAMPLING_OPTIONS = ['temperature', 'max_tokens', 'top_p', 'top_k', 'seed', 'stop', 'repetition_penalty',
  'frequency_penalty', 'presence_penalty'];

function samplingOptions(inputs) {
  return Object.fromEntries(SAMPLING_OPTIONS.filter((name) => name in inputs).map((name) => [name, inputs[name]]));
}

// What a call records of its inputs: the sampling options, and the tools offered (how many) and
// the choice among them.
function recordedOptions(inputs) {
  const options = samplingOptions(inputs);
  if (Array.isArray(inputs.tools)) options.tools = inputs.tools.length;
  if (inputs.tool_choice !== undefined) options.tool_choice = inputs.tool_choice;
  return options;
}

// How each model that calls tools answers with its calls, as Workers AI's do: "flat" ones
// (llama-3.3, mistral-small) as `[{name, arguments: {...}}]` and cannot stream with tools; "openai"
// ones (llama-4-scout) as `[{id, type, function: {name, arguments: "..."}}]`, and stream them as
// pieces in top-level `tool_calls`. Other models ignore tools.
const TOOL_SHAPES = {
  '@cf/meta/llama-3.3-70b-instruct-fp8-fast': 'flat',
  '@cf/mistralai/mistral-small-3.1-24b-instruct': 'flat',
  '@cf/meta/llama-4-scout-17b-16e-instruct': 'openai',
};
const MAX_RECORDED_CALLS = 1_000; // a long `make dev` session must not grow without bound
const encoder = new TextEncoder();

// `settings`: the DEVHOST_AI_* variables (process.env in the Node host, vars in the workerd stand-in).
export function defaultKnobs(settings = {}) {
  return {
    latencyMs: Number(settings.DEVHOST_AI_LATENCY_MS ?? 0),
    tokenDelayMs: Number(settings.DEVHOST_AI_TOKEN_DELAY_MS ?? 0),
    forwardUrl: settings.DEVHOST_AI_FORWARD_URL ?? '',
    forwardModel: settings.DEVHOST_AI_FORWARD_MODEL ?? '',
    // Each entry fails one call: {mode: "error" | "mid_stream" | "stall", code, message,
    // afterTokens} ("stall": the stream sends nothing more after `afterTokens`, until cancelled;
    // "error" at the provider stand-in: `answer` {status, retryAfter, body} is its HTTP answer),
    // with `worker` only a call from that worker (an inference backend, by name), and with
    // `skip: n` the call after the next n.
    failures: [],
    // Every call from these workers fails as over capacity (a backend whose account is out).
    failingWorkers: [],
  };
}

class AiError extends Error {
  // `answer`: what the provider stand-in answers for it ({status, retryAfter, body}), if the failure says.
  constructor(code, message, answer = undefined) {
    super(`${code}: ${message}`);
    this.name = 'AiError';
    this.answer = answer;
  }
}

// Rejects with the signal's reason if `signal` aborts first.
function sleep(ms, signal) {
  if (signal?.aborted) return Promise.reject(signal.reason);
  if (!(ms > 0)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

function countTokens(text) {
  return Math.max(1, Math.ceil(text.length / 4));
}

// An image part as a vision model would say what it sees, deterministically: its media type and
// size. Like Workers AI, it reads the image's bytes from a data URL, never a link.
function describeImage(url) {
  const match = /^data:([^;,]+);base64,(.*)$/s.exec(url ?? '');
  if (!match) throw new AiError(5006, 'Error: image_url.url must be a data URL holding the image in base64');
  return `I see an ${match[1]} image of ${atob(match[2]).length} bytes.`;
}

// A message's content as text: Workers AI's vision models take OpenAI's parts (text and image_url).
function contentText(content) {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return JSON.stringify(content ?? '');
  return content.map((part) => {
    if (part?.type === 'text') return part.text;
    if (part?.type === 'image_url') return describeImage(part.image_url?.url);
    return JSON.stringify(part);
  }).join(' ');
}

function promptText(inputs) {
  if (typeof inputs.prompt === 'string') return inputs.prompt;
  const messages = Array.isArray(inputs.messages) ? inputs.messages : [];
  return messages.map((m) => `${m.role}: ${contentText(m.content)}`).join('\n');
}

function lastUserText(inputs) {
  if (typeof inputs.prompt === 'string') return inputs.prompt;
  const users = (inputs.messages ?? []).filter((m) => m.role === 'user');
  return contentText(users.at(-1)?.content ?? '');
}

// Words with their leading space, so joining the tokens gives back the text.
function tokenize(text) {
  return text.match(/\s*\S+/g) ?? [];
}

// A word of the prompt for a string argument, as a model would pick it: a capitalised word after
// the first (a name such as "Paris"), else the first word that is not a stop word.
function wordFrom(prompt) {
  const words = prompt.match(/[\p{L}\p{N}]+/gu) ?? [];
  return words.slice(1).find((w) => /^\p{Lu}/u.test(w))
    ?? words.find((w) => w.length > 2 && !STOP_WORDS.has(w.toLowerCase())) ?? 'example';
}

// Arguments that satisfy a tool's JSON Schema, strings taken from the prompt.
function argumentsFor(schema = {}, prompt = '') {
  if (schema.const !== undefined) return schema.const;
  if (schema.enum?.length) return schema.enum[0];
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  const type = types.find((t) => t && t !== 'null') ?? (schema.properties ? 'object' : 'string');
  switch (type) {
    case 'object': {
      const value = Object.fromEntries(Object.entries(schema.properties ?? {}).map(([k, v]) => [k, argumentsFor(v, prompt)]));
      for (const name of schema.required ?? []) if (!(name in value)) value[name] = wordFrom(prompt);
      return value;
    }
    case 'array':
      return Array.from({ length: Math.max(1, schema.minItems ?? 1) }, () => argumentsFor(schema.items, prompt));
    case 'integer':
    case 'number': {
      const step = type === 'integer' ? 1 : 0.5;
      const low = schema.minimum ?? (schema.exclusiveMinimum === undefined ? undefined : schema.exclusiveMinimum + step);
      const high = schema.maximum ?? (schema.exclusiveMaximum === undefined ? undefined : schema.exclusiveMaximum - step);
      const value = Math.min(low ?? 1, high ?? Infinity);
      return type === 'integer' ? Math.ceil(value) : value;
    }
    case 'boolean':
      return true;
    default: {
      const word = wordFrom(prompt);
      return word.padEnd(schema.minLength ?? 0, 'x').slice(0, schema.maxLength ?? undefined);
    }
  }
}

// The calls a model makes when offered tools, or null: none once the tools' results came after
// the last user message (the model then answers them), none when told "none". It calls the tool
// the choice names, else every tool the last user message names, else the first; one only when
// `parallel_tool_calls` is false.
function toolCalls(model, inputs) {
  const tools = (Array.isArray(inputs.tools) ? inputs.tools : []).map((t) => t.function ?? t).filter((t) => t?.name);
  if (!tools.length || !(model in TOOL_SHAPES) || inputs.tool_choice === 'none') return null;
  const messages = inputs.messages ?? [];
  if (messages.slice(messages.findLastIndex((m) => m.role === 'user') + 1).some((m) => m.role === 'tool')) return null;
  const prompt = lastUserText(inputs);
  const named = inputs.tool_choice?.function?.name;
  let chosen = named ? tools.filter((t) => t.name === named) : tools.filter((t) => prompt.toLowerCase().includes(t.name.toLowerCase()));
  if (!chosen.length) chosen = tools.slice(0, 1);
  if (inputs.parallel_tool_calls === false) chosen = chosen.slice(0, 1);
  return chosen.map((t, index) => {
    const args = argumentsFor(t.parameters ?? {}, prompt);
    return { id: `chatcmpl-tool-${fnv1a(`${index}:${t.name}:${JSON.stringify(args)}:${prompt}`).toString(16)}`, name: t.name, args };
  });
}

// A whole answer's `tool_calls`, in the model's shape.
function shapedCalls(model, calls) {
  if (TOOL_SHAPES[model] === 'flat') return calls.map((c) => ({ name: c.name, arguments: c.args }));
  return calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: JSON.stringify(c.args) } }));
}

// A streamed answer's events for its calls: each call's start (id and name), its arguments in two
// pieces, and the null entry that closes it.
function toolCallEvents(calls) {
  return calls.flatMap((c, index) => {
    const args = JSON.stringify(c.args);
    const half = Math.ceil(args.length / 2);
    return [
      { response: '', tool_calls: [{ index, id: c.id, type: 'function', function: { name: c.name } }] },
      { response: '', tool_calls: [{ index, function: { arguments: args.slice(0, half) } }] },
      { response: '', tool_calls: [{ index, function: { arguments: args.slice(half) } }] },
      { response: '', tool_calls: [{ id: null, type: null, function: { name: null, arguments: null } }] },
    ];
  });
}

// Given the results of its calls (the last messages are the tools'), a model answers from them.
function toolResultsReply(inputs) {
  const messages = inputs.messages ?? [];
  if (messages.at(-1)?.role !== 'tool') return undefined;
  const results = messages.slice(messages.findLastIndex((m) => m.role !== 'tool') + 1).map((m) => contentText(m.content));
  return `The tools answered: ${results.join('; ')}`;
}

// Like an instruction-following model: asked (in a system message) for JSON matching a schema,
// it answers with such JSON; given its tools' results, it quotes them; otherwise it echoes the
// last user message.
const SCHEMA_MARKER = 'JSON Schema: ';

function requestedSchema(inputs) {
  for (const m of inputs.messages ?? []) {
    const at = m.role === 'system' && typeof m.content === 'string' ? m.content.indexOf(SCHEMA_MARKER) : -1;
    if (at >= 0) {
      try {
        return JSON.parse(m.content.slice(at + SCHEMA_MARKER.length));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

// Given the start of its answer as a last assistant message (a continuation), a model goes on
// from where that start ends, when its own answer begins so; else it answers anew.
function answerStart(inputs) {
  const last = inputs.messages?.at(-1);
  return last?.role === 'assistant' && typeof last.content === 'string' && !last.tool_calls ? last.content : undefined;
}

function replyTokens(model, inputs) {
  const start = answerStart(inputs);
  const asked = start === undefined ? inputs : { ...inputs, messages: inputs.messages.slice(0, -1) };
  const schema = requestedSchema(asked);
  const results = toolResultsReply(asked);
  const text = schema
    ? JSON.stringify(exampleFor(schema), null, 1)
    : `${results ?? `You said: ${lastUserText(asked).trim()}`} (a deterministic reply from the local stand-in for ${model})`;
  const rest = start !== undefined && text.startsWith(start) ? text.slice(start.length) : text;
  return tokenize(rest).slice(0, inputs.max_tokens ?? DEFAULT_MAX_TOKENS);
}

// A value that satisfies a JSON schema, built from its types, for JSON mode.
function exampleFor(schema = {}) {
  if (schema.const !== undefined) return schema.const;
  if (schema.enum?.length) return schema.enum[0];
  if (schema.default !== undefined) return schema.default;
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type ?? (schema.properties ? 'object' : 'string')) {
    case 'object': // an object with no properties named is still given one (JSON mode without a schema)
      return schema.properties ? Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, exampleFor(v)])) : { answer: 'example' };
    case 'array':
      return Array.from({ length: Math.max(1, schema.minItems ?? 1) }, () => exampleFor(schema.items));
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return 'example';
  }
}

// Words too common to tell passages apart.
const STOP_WORDS = new Set(('a an and are as at be by does did do for from has have how in is it its of on or that the '
  + 'this to was were what when where which who why will with you your').split(' '));

function fnv1a(text, seed = 2166136261) {
  let hash = seed;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 16777619);
  return hash >>> 0;
}

// Besides STOP_WORDS, words that say little of what a question asks (a paraphrase swaps them).
const FILLER_WORDS = new Set(('can could would should may might shall i me my mine we us our they them their there '
  + 'please some any so if than then also just').split(' '));

// A word without its plural ending: "passwords" and "password", "resets" and "reset" agree.
function stem(word) {
  return word.length > 3 && word.endsWith('s') && !word.endsWith('ss') ? word.slice(0, -1) : word;
}

// Lexical hashing: each word (lowercased, singular, stop and filler words left out) adds ±1 to the
// dimension its hash picks, and the vector is normalized; texts that share words point the same
// way, so cosine similarity ranks passages by the words they share with a question, and scores a
// reworded question close to the original, as a real embedding model's would (if less well). A
// text with no such word gets a vector from its whole text.
function embed(text, dimensions) {
  const vector = new Array(dimensions).fill(0);
  const words = (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])
    .filter((w) => w.length > 1 && !STOP_WORDS.has(w) && !FILLER_WORDS.has(w)).map(stem);
  if (words.length === 0) words.push(`\u0000${text}`);
  for (const word of words) {
    const hash = fnv1a(word);
    vector[hash % dimensions] += hash & 0x80000000 ? -1 : 1;
  }
  const norm = Math.sqrt(vector.reduce((total, x) => total + x * x, 0)) || 1;
  return vector.map((x) => x / norm);
}

function sseEvent(payload) {
  return encoder.encode(`data: ${typeof payload === 'string' ? payload : JSON.stringify(payload)}\n\n`);
}

export class AiRecorder {
  constructor(settings = {}) {
    this.settings = settings;
    this.lastId = 0;
    this.reset();
  }

  configure(update) {
    Object.assign(this.knobs, update);
  }

  reset() {
    this.knobs = defaultKnobs(this.settings);
    this.calls = [];
  }

  // Records a call (with the AI Gateway options it was given, if any) and says how to answer it:
  // the knobs, and the failure it takes (if any).
  begin(model, stream, worker = '', options = {}, gateway = null) {
    const call = { id: ++this.lastId, model, stream, worker, options, gateway, at: new Date().toISOString() };
    this.calls.push(call);
    if (this.calls.length > MAX_RECORDED_CALLS) this.calls.shift();
    const { failures, failingWorkers, ...knobs } = this.knobs;
    const index = failures.findIndex((f) => !f.worker || f.worker === worker);
    let failure;
    if (index >= 0 && failures[index].skip > 0) failures[index].skip -= 1; // this call passes; a later one fails
    else if (index >= 0) failure = failures.splice(index, 1)[0];
    if (!failure && failingWorkers.includes(worker)) failure = { mode: 'error', code: 3040, message: `Capacity temporarily exceeded (${worker})` };
    return { id: call.id, knobs, failure, forwardKey: this.settings.DEVHOST_AI_FORWARD_KEY ?? '' };
  }

  // What became of a call: {completed: true} or {cancelled: true, reason} (a stream cancelled, or a call
  // called off by its signal).
  mark(id, outcome) {
    const call = this.calls.find((c) => c.id === id);
    if (call) Object.assign(call, outcome);
  }
}

export class Ai {
  // `recorder`: an AiRecorder, or an RPC stub of one (its answers are awaited either way).
  constructor(recorder, worker = '') {
    this.recorder = recorder;
    this.worker = worker; // the calling worker's name, when the host says
    this.aiGatewayLogId = null; // the AI Gateway log of the last call made through one
  }

  // `options.signal`: as the real binding hands it to its request, aborting it before the
  // answer calls the model off (recorded as cancelled, with the signal's reason).
  // `options.gateway`: AI Gateway's ({id, skipCache, cacheTtl, metadata}), recorded with the call;
  // the call's log id is then `aiGatewayLogId`, as on the real binding.
  async run(model, inputs = {}, options = {}) {
    const gateway = options.gateway ?? null;
    const { id, knobs, failure, forwardKey } = await this.recorder.begin(model, Boolean(inputs.stream), this.worker, recordedOptions(inputs), gateway);
    this.aiGatewayLogId = gateway ? `standin-gateway-log-${id}` : null;
    await sleep(knobs.latencyMs, options.signal).catch(async (reason) => {
      await this.recorder.mark(id, { cancelled: true, reason: String(reason) });
      throw reason;
    });
    if (failure?.mode === 'error') {
      throw new AiError(failure.code ?? 3040, failure.message ?? 'Capacity temporarily exceeded, please try again.', failure.answer);
    }
    const forward = knobs.forwardUrl ? { url: knobs.forwardUrl, model: knobs.forwardModel, key: forwardKey } : null;

    if (model in EMBEDDING_MODELS) {
      const texts = Array.isArray(inputs.text) ? inputs.text : [inputs.text ?? ''];
      if (forward) return forwardEmbeddings(forward, model, texts);
      return { shape: [texts.length, EMBEDDING_MODELS[model]], data: texts.map((t) => embed(String(t), EMBEDDING_MODELS[model])), pooling: 'mean' };
    }
    if (model === MODERATION_MODEL) return moderate(inputs);
    if (!TEXT_MODELS.includes(model)) throw new AiError(5007, `No such model ${model} or task`);
    if (typeof inputs.prompt !== 'string' && !Array.isArray(inputs.messages)) {
      throw new AiError(5006, 'Error: required properties at \'/\' are \'prompt\' or \'messages\'');
    }
    if (forward) return forwardChat(forward, model, inputs);

    const promptTokens = countTokens(promptText(inputs));
    if (inputs.response_format) {
      if (inputs.stream) throw new AiError(5006, 'JSON mode does not support streaming');
      const object = exampleFor(inputs.response_format.json_schema?.schema ?? inputs.response_format.json_schema ?? {});
      const completion = countTokens(JSON.stringify(object));
      return { response: object, usage: usage(promptTokens, completion) };
    }
    const mark = (outcome) => this.recorder.mark(id, outcome);
    if (inputs.stream && inputs.tools?.length && TOOL_SHAPES[model] === 'flat') {
      throw new AiError(5006, `${model} does not stream tool calls: call it with stream false`);
    }
    const calls = toolCalls(model, inputs);
    if (calls) {
      const completion = countTokens(JSON.stringify(calls.map((c) => [c.name, c.args])));
      if (!inputs.stream) {
        return { response: TOOL_SHAPES[model] === 'flat' ? null : '', tool_calls: shapedCalls(model, calls), usage: usage(promptTokens, completion) };
      }
      return this.#stream(toolCallEvents(calls), promptTokens, completion, failure, knobs.tokenDelayMs, mark);
    }
    const tokens = replyTokens(model, inputs);
    if (!inputs.stream) return { response: tokens.join(''), usage: usage(promptTokens, tokens.length) };
    const events = tokens.map((token, index) => ({ response: token, p: 'abcdefghij'.slice(0, index % 10) }));
    return this.#stream(events, promptTokens, tokens.length, failure, knobs.tokenDelayMs, mark);
  }

  // `events`: the answer's events before the last (its usage) and [DONE], one a pull.
  #stream(events, promptTokens, completionTokens, failure, tokenDelayMs, mark) {
    const failAt = failure?.mode === 'mid_stream' ? (failure.afterTokens ?? 1) : Infinity;
    const stallAt = failure?.mode === 'stall' ? (failure.afterTokens ?? 1) : Infinity;
    let index = 0;
    let cancelled = false;
    let wake = () => {};
    return new ReadableStream({
      async pull(controller) {
        if (index > 0) await sleep(tokenDelayMs);
        if (index === stallAt) await new Promise((resolve) => { wake = resolve; });
        if (cancelled) return;
        if (index === failAt) {
          controller.error(new AiError(failure.code ?? 3040, failure.message ?? 'Model stream interrupted'));
          return;
        }
        if (index < events.length) {
          controller.enqueue(sseEvent(events[index]));
        } else {
          controller.enqueue(sseEvent({ response: '', usage: usage(promptTokens, completionTokens) }));
          controller.enqueue(sseEvent('[DONE]'));
          await mark({ completed: true });
          controller.close();
        }
        index += 1;
      },
      async cancel(reason) {
        cancelled = true;
        wake();
        await mark({ cancelled: true, reason: String(reason) });
      },
    }, { highWaterMark: 0 });
  }
}

// Forwarding to an OpenAI-compatible server: `forward` is {url, model, key}.
async function forwardRequest(forward, pathname, body) {
  const headers = { 'content-type': 'application/json' };
  if (forward.key) headers.authorization = `Bearer ${forward.key}`;
  const response = await fetch(new URL(pathname, forward.url.replace(/\/?$/, '/')), { method: 'POST', headers, body: JSON.stringify(body) });
  if (!response.ok) throw new AiError(3043, `forwarded request failed: ${response.status} ${await response.text()}`);
  return response;
}

async function forwardEmbeddings(forward, model, texts) {
  const body = await (await forwardRequest(forward, 'embeddings', { model: forward.model || model, input: texts })).json();
  const data = body.data.map((d) => d.embedding);
  return { shape: [data.length, data[0]?.length ?? 0], data, pooling: 'mean' };
}

async function forwardChat(forward, model, inputs) {
  const messages = inputs.messages ?? [{ role: 'user', content: inputs.prompt }];
  const tools = inputs.tools?.length ? { tools: inputs.tools, tool_choice: inputs.tool_choice } : {};
  const body = { model: forward.model || model, messages, ...samplingOptions(inputs), ...tools, stream: Boolean(inputs.stream) };
  if (inputs.stream) body.stream_options = { include_usage: true };
  const response = await forwardRequest(forward, 'chat/completions', body);
  if (!inputs.stream) {
    const json = await response.json();
    const { content, tool_calls: toolCalls } = json.choices[0].message;
    return { response: content ?? '', ...(toolCalls?.length ? { tool_calls: toolCalls } : {}), usage: json.usage };
  }
  // OpenAI chunks in, Workers AI events out.
  const decoder = new TextDecoder();
  let buffer = '';
  return response.body.pipeThrough(new TransformStream({
    transform(chunk, controller) {
      buffer += decoder.decode(chunk, { stream: true });
      const events = buffer.split('\n\n');
      buffer = events.pop();
      for (const event of events) {
        const data = event.replace(/^data: ?/, '').trim();
        if (!data) continue;
        if (data === '[DONE]') {
          controller.enqueue(sseEvent('[DONE]'));
          continue;
        }
        const json = JSON.parse(data);
        const delta = json.choices?.[0]?.delta ?? {};
        const relayed = { response: delta.content ?? '' };
        if (delta.tool_calls?.length) relayed.tool_calls = delta.tool_calls;
        if (json.usage) relayed.usage = json.usage;
        controller.enqueue(sseEvent(relayed));
      }
    },
  }));
}

// Llama Guard's answer: in JSON mode {safe, categories}, else "safe" or "unsafe\nS1".
function moderate(inputs) {
  if (!Array.isArray(inputs.messages) || !inputs.messages.length) throw new AiError(5006, 'Error: required properties at \'/\' are \'messages\'');
  const flagged = contentText(inputs.messages.at(-1).content).toLowerCase().includes(MODERATION_MARKER);
  const verdict = { safe: !flagged, categories: flagged ? ['S1'] : [] };
  const response = inputs.response_format?.type === 'json_object' ? verdict : (flagged ? 'unsafe\nS1' : 'safe');
  return { response, usage: usage(countTokens(promptText(inputs)), flagged ? 3 : 1) };
}

function usage(prompt, completion) {
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

export const catalog = { textModels: TEXT_MODELS, embeddingModels: Object.keys(EMBEDDING_MODELS), moderationModel: MODERATION_MODEL,
  moderationMarker: MODERATION_MARKER };
