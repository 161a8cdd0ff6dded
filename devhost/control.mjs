// devhost's own routes under /__devhost/: the AI stand-in's knobs, injected faults, the cron
// trigger, R2 listings and the Analytics Engine points kept. They exist only on the local host,
// in front of the workers, never in a worker. (The workerd host has the same routes but faults
// and analytics: devhost/workerd/standin.mjs.)
import { ExecutionContext } from './python-worker.mjs';
import { IDENTITY_ROUTE, NOT_JSON, isJson } from './control-guard.mjs';
import { readJson } from './http.mjs';

export const CONTROL_PREFIX = '/__devhost/';


export async function control(req, res, { recorder, faults, workers, analyticsPoints, instance }) {
  const route = req.url.slice(CONTROL_PREFIX.length).split('?')[0];
  const reply = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (req.method === 'POST' && !isJson(req.headers['content-type'])) return reply(415, NOT_JSON);
  if (route === IDENTITY_ROUTE && req.method === 'GET') return reply(200, { instance });
  if (route === 'ai') {
    if (req.method === 'POST') recorder.configure(await readJson(req));
    if (req.method === 'DELETE') recorder.reset();
    return reply(200, { knobs: recorder.knobs, calls: recorder.calls });
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
      await worker.call('Default', 'scheduled', [controller, null, null], ctx); // workerd's arguments
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
    const params = new URL(req.url, 'http://host').searchParams;
    if (params.has('key')) {  // one object's text
      const object = await bucket.get(params.get('key'));
      if (!object) return reply(404, { error: { code: 'not_found', message: 'no such object' } });
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      return res.end(await object.text());
    }
    const prefix = params.get('prefix') ?? '';
    const listing = await bucket.list({ prefix, include: ['customMetadata'] });
    return reply(200, { keys: listing.objects.map((o) => o.key) });
  }
  if (route === 'profile' && req.method === 'POST') {
    // Python's cProfile in every worker (devhost's clocks are real; workerd's stand still while
    // a request runs, so only here can it say where Python's time goes): {"action": "start"},
    // then {"action": "stop", "top": 30} answers each worker's busiest functions.
    const { action, top = 30, sort = 'tottime' } = await readJson(req);
    const profiles = {};
    for (const worker of workers.values()) profiles[worker.name] = worker.profile(action, top, sort);
    return reply(200, { profiles });
  }
  if (route === 'analytics') {
    // The Analytics Engine points the workers wrote (the latest 10,000); DELETE clears them.
    if (req.method === 'DELETE') analyticsPoints.length = 0;
    return reply(200, { points: analyticsPoints });
  }
  return reply(404, { error: { code: 'not_found', message: `no devhost control route ${route}` } });
}
