// The local-only companion worker of the workerd host: it keeps the Workers AI stand-in's
// knobs and record of calls (the AI bindings, in the workers' own isolates, ask it how to
// answer each call: ai-plugin.mjs), and serves the host's control routes under /__devhost/
// (routed here by the host; never part of a deployed worker).
import { WorkerEntrypoint } from 'cloudflare:workers';
import { Ai, AiRecorder } from '../ai.mjs';
import { NOT_JSON, isJson } from '../control-guard.mjs';

// One recorder for the isolate: the calls the AI bindings report and the knobs the control
// routes set are the same object's.
let recorder;
const recorderFor = (env) => (recorder ??= new AiRecorder(env));

export class AiRecorderEntrypoint extends WorkerEntrypoint {
  begin(model, stream, worker) {
    return recorderFor(this.env).begin(model, stream, worker);
  }

  mark(id, outcome) {
    recorderFor(this.env).mark(id, outcome);
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
  if (route === 'ai') {
    if (request.method === 'POST') ai.configure(await request.json());
    if (request.method === 'DELETE') ai.reset();
    return json({ knobs: ai.knobs, calls: ai.calls });
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
  const r2 = route.match(/^r2\/([^/]+)\/([^/]+)$/);
  if (r2 && request.method === 'GET') {
    const bucket = env[`R2:${r2[1]}:${r2[2]}`];
    if (!bucket) return json({ error: { code: 'not_found', message: `no R2 binding ${r2[2]} in ${r2[1]}` } }, 404);
    const listing = await bucket.list({ prefix: url.searchParams.get('prefix') ?? '' });
    return json({ keys: listing.objects.map((o) => o.key) });
  }
  if (route === 'status') return json({ runtime: 'workerd', userAgent: navigator.userAgent });
  return json({ error: { code: 'not_found', message: `no control route ${route} on the workerd host (the Node host has more)` } }, 404);
}

export default {
  fetch(request, env) {
    return control(request, env).catch((err) => json({ error: { code: 'internal_error', message: String(err?.message ?? err) } }, 500));
  },
};
