// The playground: a chat streamed through the AI SDK's own client code (DefaultChatTransport and
// readUIMessageStream, what useChat runs), with a tool the browser runs when the model calls it, charts of the caller's last hour from GraphQL's
// eventMetrics (uPlot), and the key in this tab's session storage only. Bundled by
// scripts/build-playground.mjs into the api worker's static assets.
import './zod-jitless.js'; // first: it configures zod before the AI SDK defines its schemas
import { DefaultChatTransport, getToolName, isToolUIPart, readUIMessageStream } from 'ai';
import uPlot from 'uplot';
import { KEY_STORAGE } from './key.js';

const REFRESH_MS = 10_000;
const $ = (id) => document.getElementById(id);

let apiKey = null;
let history = []; // the conversation, as UI messages
let refreshTimer = null;
let answering = null; // the AbortController of the answer streaming now
const charts = {};

class ApiProblem extends Error {}

function say(text) {
  const alert = $('alert');
  alert.textContent = text;
  alert.hidden = !text;
}

// What the api said, from its JSON error body ({"error": {"code", "message"}}), or the text.
function problemText(status, body) {
  try {
    const { error } = JSON.parse(body);
    return `${error.message} (${status} ${error.code})`;
  } catch {
    return `${body || 'no answer'} (${status})`;
  }
}

async function api(path, init = {}, key = apiKey) {
  const headers = { authorization: `Bearer ${key}`, ...(init.body ? { 'content-type': 'application/json' } : {}) };
  const response = await fetch(path, { ...init, headers: { ...headers, ...init.headers } });
  const body = await response.text();
  if (!response.ok) throw new ApiProblem(problemText(response.status, body));
  return JSON.parse(body);
}

async function graphql(query, variables = {}) {
  const answer = await api('/graphql', { method: 'POST', body: JSON.stringify({ query, variables }) });
  if (answer.errors?.length) throw new ApiProblem(answer.errors.map((e) => e.message).join('; '));
  return answer.data;
}

// --- the key --------------------------------------------------------------------------------

// The key's line: its usage today, from /v1/usage as the key is taken, then with every refresh of the charts.
function showUsage({ keyId, tier, requests, costUsd, policy, budget }) {
  const count = `${requests} request${requests === 1 ? '' : 's'}`;
  $('key-state').textContent = `Using key ${keyId} (${tier.toLowerCase()} tier): ${count} and $${costUsd.toFixed(6)} today.`;
  if (policy !== undefined) showPolicy(policy, budget);
}

// The key's own limits (null: its tier's only) and what is left of its budget this period.
function showPolicy(policy, budget) {
  const line = $('key-policy');
  line.hidden = false;
  if (!policy) {
    line.textContent = "Key policy: none (the tier's limits).";
    return;
  }
  const parts = [];
  if (budget) {
    parts.push(`budget $${budget.remainingUsd.toFixed(6)} left of $${budget.limitUsd} this ${budget.period.toLowerCase()}`
      + (budget.softLimitUsd ? ` (alert at $${budget.softLimitUsd})` : ''));
  }
  if (policy.allowedModels) parts.push(`models ${policy.allowedModels.join(', ')}`);
  if (policy.requestsPerMinute) parts.push(`${policy.requestsPerMinute} requests a minute`);
  if (policy.tokensPerMinute) parts.push(`${policy.tokensPerMinute} tokens a minute`);
  if (policy.maxConcurrent) parts.push(`${policy.maxConcurrent} at once`);
  if (policy.expiresAt) parts.push(`expires ${policy.expiresAt}`);
  line.textContent = `Key policy: ${parts.join(' · ') || 'metadata only'}.`;
}

async function useKey(key, { quiet = false } = {}) {
  try {
    const usage = await api('/v1/usage', {}, key);
    apiKey = key;
    sessionStorage.setItem(KEY_STORAGE, key);
    showUsage({ keyId: usage.key_id, tier: usage.tier, requests: usage.requests, costUsd: usage.cost_usd });
    $('key').value = '';
    say('');
    setEnabled(true);
    $('prompt').focus(); // the next step: what a keyboard user types goes there at once
    await loadModels();
    await refreshMetrics();
    clearInterval(refreshTimer);
    refreshTimer = setInterval(refreshMetrics, REFRESH_MS);
  } catch (error) {
    if (!quiet) say(`That key was refused: ${error.message}`);
    forgetKey({ keepAlert: true });
  }
}

function forgetKey({ keepAlert = false } = {}) {
  apiKey = null;
  sessionStorage.removeItem(KEY_STORAGE);
  clearInterval(refreshTimer);
  unindexed = [];
  sentNote = '';
  setEnabled(false);
  $('key-state').textContent = 'No key yet: the key stays in this tab (session storage) only.';
  $('key-policy').hidden = true;
  if (!keepAlert) say('');
}

function setEnabled(on) {
  for (const id of ['model', 'offer-tool', 'prompt', 'send', 'send-events', 'forget-key']) $(id).disabled = !on;
}

async function loadModels() {
  const { models } = await graphql('{ models { id task } }');
  const select = $('model');
  select.replaceChildren(...models.filter((m) => m.task === 'text-generation').map((m) => new Option(m.id, m.id)));
}

// --- the chat -------------------------------------------------------------------------------

const textOf = (message) => message.parts.filter((p) => p.type === 'text').map((p) => p.text).join('');

// The tool this page offers when asked to, run here in the browser (a client-side tool, as
// useChat's onToolCall would run it), and how many times one answer may call it.
const CLOCK_TOOL = {
  local_time: {
    description: "The current date and time in the user's browser, with its time zone",
    inputSchema: { type: 'object', properties: {} },
  },
};
const MAX_TOOL_ROUNDS = 3;

function runTool(part) {
  if (getToolName(part) !== 'local_time') return { state: 'output-error', errorText: 'This page has no such tool' };
  const now = new Date();
  return { state: 'output-available', output: { local: now.toLocaleString(), timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone } };
}

// A tool part as one line: the call, then its output, its error, or its state while it has neither.
function toolLine(part) {
  const call = `${getToolName(part)}(${JSON.stringify(part.input ?? {})})`;
  if (part.state === 'output-available') return `${call} → ${JSON.stringify(part.output)}`;
  if (part.state === 'output-error') return `${call} → error: ${part.errorText}`;
  return `${call} · ${part.state}`;
}

// The answer's text and tool calls, in the order the model produced them.
function showAnswer(item, message) {
  item.replaceChildren(...message.parts.flatMap((part) => {
    if (part.type === 'text') return [part.text];
    if (!isToolUIPart(part)) return [];
    const line = document.createElement('code');
    line.className = 'tool';
    line.textContent = toolLine(part);
    return [line];
  }));
}

function bubble(role, text) {
  const item = document.createElement('li');
  item.className = role;
  item.textContent = text;
  $('messages').append(item);
  item.scrollIntoView({ block: 'nearest' });
  return item;
}

async function send(event) {
  event?.preventDefault();
  const text = $('prompt').value.trim();
  if (!text || answering) return;
  if (!apiKey) return say('Enter an API key first.');
  say('');
  const user = { id: `user-${Date.now()}`, role: 'user', parts: [{ type: 'text', text }] };
  history = [...history, user];
  $('prompt').value = '';
  bubble('user', text);
  const answer = bubble('assistant', '');
  answer.setAttribute('aria-busy', 'true');
  answering = new AbortController();
  $('stop').disabled = false;
  $('send').disabled = true;
  $('answer-meta').textContent = 'Answering…';
  let last = null;
  const errors = [];
  try {
    const tools = $('offer-tool').checked ? { tools: CLOCK_TOOL } : {};
    const transport = new DefaultChatTransport({
      api: '/stream/chat', headers: { authorization: `Bearer ${apiKey}` }, body: { model: $('model').value, ...tools },
    });
    // Each round answers the conversation; when the answer calls tools, the page runs them, adds
    // their output to the answer's parts (as useChat's addToolResult does) and asks again, the
    // next round going on in the same message.
    for (let round = 0; round < MAX_TOOL_ROUNDS; round += 1) {
      const stream = await transport.sendMessages({
        chatId: 'playground', messages: last ? [...history, last] : history, trigger: 'submit-message',
        messageId: last?.id, abortSignal: answering.signal,
      });
      for await (const message of readUIMessageStream({ message: last ?? undefined, stream, onError: (e) => errors.push(String(e?.message ?? e)) })) {
        last = message;
        showAnswer(answer, message);
      }
      if (errors.length) throw new Error(errors.join('; '));
      const calls = last.parts.filter((part) => isToolUIPart(part) && part.state === 'input-available');
      if (!calls.length) break;
      last = { ...last, parts: last.parts.map((part) => (calls.includes(part) ? { ...part, ...runTool(part) } : part)) };
      showAnswer(answer, last);
    }
    history = [...history, last];
    const meta = last?.metadata ?? {};
    const usage = meta.usage ?? {};
    $('answer-meta').textContent = `${meta.model ?? 'model?'} · ${meta.provider ?? ''} · ${cacheText(meta)} · `
      + `${usage.prompt_tokens ?? '?'} prompt + ${usage.completion_tokens ?? '?'} completion tokens · ${meta.finishReason ?? ''}`;
  } catch (error) {
    const message = String(error?.message ?? error);
    const stopped = answering.signal.aborted;
    $('answer-meta').textContent = stopped ? 'Stopped.' : '';
    if (!stopped) say(`The answer failed: ${message.startsWith('{') ? problemText('', message).replace(' ()', '') : message}`);
    if (!last?.parts.some((part) => part.type === 'text' || isToolUIPart(part))) answer.remove();
    history = history.slice(0, -1); // a failed turn is not sent again as context
  } finally {
    answer.removeAttribute('aria-busy');
    answering = null;
    $('stop').disabled = true;
    $('send').disabled = !apiKey;
    $('prompt').focus();
    // The answer's usage is recorded as its stream ends: look again (charts and the key's line) once it has landed.
    setTimeout(refreshMetrics, 1500);
  }
}

// --- the charts -----------------------------------------------------------------------------

const METRICS_QUERY = `query($range: TimeRange!) {
  events: eventMetrics(metric: EVENTS_BY_TYPE, range: $range, bucket: MINUTE) { points { bucket value } totals { value } }
  tokens: eventMetrics(metric: TOKENS_BY_MODEL, range: $range, bucket: MINUTE) { points { bucket value } totals { value } }
  latency: eventMetrics(metric: AI_LATENCY, range: $range, bucket: MINUTE) { points { bucket key value } totals { key value } }
  cost: eventMetrics(metric: COST_BY_MODEL, range: $range, bucket: MINUTE) { points { bucket value } totals { value } }
  usage {
    keyId tier requests costUsd
    policy { allowedModels requestsPerMinute tokensPerMinute maxConcurrent expiresAt }
    budget { limitUsd softLimitUsd period spentUsd remainingUsd }
  }
}`;

// One value a minute over the range (summed over the keys), as uPlot's columns.
function columns(points, start, minutes, keys = [null]) {
  const xs = Array.from({ length: minutes }, (_, i) => start / 1000 + i * 60);
  const series = keys.map(() => new Array(minutes).fill(0));
  for (const point of points) {
    const index = Math.floor((Date.parse(point.bucket) - start) / 60_000);
    const k = keys.length > 1 ? keys.indexOf(point.key) : 0;
    if (index >= 0 && index < minutes && k >= 0) series[k][index] += point.value;
  }
  return [xs, ...series];
}

// A y axis as wide as its longest label (uPlot's fixed default cuts long ones, such as small costs).
function fitLabels(chart, values, axisIndex, cycle) {
  const axis = chart.axes[axisIndex];
  if (cycle > 1) return axis._size; // uPlot sizes axes in rounds: stop once the labels are known
  const longest = (values ?? []).reduce((widest, value) => (value.length > widest.length ? value : widest), '');
  chart.ctx.font = axis.font[0];
  return Math.ceil(axis.ticks.size + axis.gap + chart.ctx.measureText(longest).width / devicePixelRatio) + 4;
}

function draw(id, data, labels, total, describe, tick = (value) => String(value)) {
  const figure = $(id);
  figure.dataset.total = String(total);
  figure.querySelector('.total').textContent = describe(total);
  if (charts[id]) {
    charts[id].setData(data);
    return;
  }
  const colors = ['#2f5bea', '#e8590c'];
  charts[id] = new uPlot({
    width: Math.max(240, figure.clientWidth - 8), height: 160, legend: { show: labels.length > 1 },
    series: [{}, ...labels.map((label, i) => ({ label, stroke: colors[i], fill: i ? undefined : '#2f5bea22', width: 2 }))],
    // Time labels at least 80 px apart, so that two never run into each other, and room on the
    // right for half of the last one (it is centred on its tick).
    padding: [12, 32, 0, 0],
    axes: [{ space: 80 }, { size: fitLabels, values: (_, values) => values.map(tick) }],
  }, data, figure.querySelector('.plot'));
}

// Events sent from here and not yet indexed (a batch is answered once queued, indexed a second
// or two later): shown at once, in the minute they were sent, until the metrics count them.
let unindexed = []; // [{count, at (ms), until: the events total that includes them}]
let countedEvents = 0; // the events total of the last metrics answer
let sentNote = ''; // what the last "Send" did, kept across refreshes
let lastEvents = { points: [], start: 0 }; // the last metrics answer's events, drawn again with a batch just sent

function drawEvents(points, start) {
  const data = columns(points, start, 60);
  for (const batch of unindexed) {
    const minute = Math.floor((batch.at - start) / 60_000);
    if (minute >= 0 && minute < 60) data[1][minute] += batch.count;
  }
  const total = countedEvents + unindexed.reduce((sum, batch) => sum + batch.count, 0);
  draw('chart-events', data, ['events'], total, (n) => `${n} events`);
}

function showMetricsState(text) {
  $('metrics-state').textContent = [sentNote, text].filter(Boolean).join(' ');
}

async function refreshMetrics() {
  if (!apiKey) return;
  const end = Math.ceil(Date.now() / 60_000) * 60_000;
  const start = end - 60 * 60_000;
  try {
    const data = await graphql(METRICS_QUERY, { range: { from: new Date(start).toISOString(), to: new Date(end).toISOString() } });
    const sum = (metric) => metric.totals.reduce((total, t) => total + t.value, 0);
    countedEvents = sum(data.events);
    // A batch stops being shown apart once counted (or after a minute, should it never be: its events may have been duplicates).
    unindexed = unindexed.filter((batch) => countedEvents < batch.until && Date.now() - batch.at < 60_000);
    lastEvents = { points: data.events.points, start };
    showUsage(data.usage);
    drawEvents(data.events.points, start);
    draw('chart-tokens', columns(data.tokens.points, start, 60), ['tokens'], sum(data.tokens), (n) => `${n} tokens`);
    const p95 = data.latency.totals.find((t) => t.key === 'p95')?.value ?? 0;
    draw('chart-latency', columns(data.latency.points, start, 60, ['p50', 'p95']), ['p50', 'p95'], p95, (ms) => `p95 ${ms.toFixed(0)} ms`);
    draw('chart-cost', columns(data.cost.points, start, 60), ['US $'], sum(data.cost), (usd) => `$${usd.toFixed(6)}`,
      (usd) => (usd >= 1 ? `$${usd}` : usd ? `$${usd.toPrecision(2)}` : '0'));
    showMetricsState(`Updated ${new Date().toLocaleTimeString()}; every ${REFRESH_MS / 1000} s.`);
  } catch (error) {
    showMetricsState(`The charts could not be updated: ${error.message}`);
  }
}

async function sendSampleEvents() {
  const now = Date.now();
  const events = Array.from({ length: 10 }, (_, i) => ({
    type: i % 3 ? 'playground.click' : 'playground.view', component: 'Playground', properties: { n: i, at: now },
  }));
  try {
    const result = await api('/events', { method: 'POST', body: JSON.stringify({ events }) });
    const pending = unindexed.reduce((sum, batch) => sum + batch.count, 0);
    unindexed.push({ count: result.accepted, at: Date.now(), until: countedEvents + pending + result.accepted });
    sentNote = `Sent ${result.accepted} events at ${new Date().toLocaleTimeString()}.`;
    drawEvents(lastEvents.points, lastEvents.start);
    showMetricsState('');
    await refreshMetrics();
  } catch (error) {
    say(`The events were not accepted: ${error.message}`);
  }
}

// --- wiring ---------------------------------------------------------------------------------

$('key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const key = $('key').value.trim();
  if (key) useKey(key);
});
$('forget-key').addEventListener('click', () => forgetKey());
$('chat-form').addEventListener('submit', send);
$('prompt').addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) send(event);
});
$('stop').addEventListener('click', () => answering?.abort());
$('send-events').addEventListener('click', sendSampleEvents);
setEnabled(false);
const stored = sessionStorage.getItem(KEY_STORAGE);
if (stored) useKey(stored, { quiet: true });
else $('key').focus();

// How the answer came: generated, or from the cache (a similar question's answer, with its similarity).
function cacheText(meta) {
  if (meta.cache === 'semantic') return `a similar question's cached answer (similarity ${meta.cacheScore})`;
  return meta.cached ? 'from the cache' : 'generated';
}
