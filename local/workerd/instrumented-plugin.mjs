// A miniflare plugin (loaded through `unsafeBindings`, as ai-plugin.mjs) for the host started with
// --instrumented (the end-to-end tests' host): each D1, KV, R2, queue and service binding becomes a wrapped
// binding holding the real one behind a guard the control worker can make fail (guarded-binding.mjs),
// and each Analytics Engine dataset one that keeps its points there (analytics-binding.mjs). The
// real binding is built by miniflare's own plugin for its kind, so that what a call reaches and
// returns is what it would be without the guard.
import { PLUGINS } from 'miniflare';

import { sourceOf, wrappedBindingPlugin } from './wrapped-plugin.mjs';

export const PLUGIN = 'local-instrumented';
const source = sourceOf(import.meta.url);
// miniflare's plugin for each kind of storage binding, by its config type.
const STORAGE_PLUGINS = { d1: 'd1', kv: 'kv', r2: 'r2', queue: 'queues' };

// The runtime's own binding, named `binding`: a service binding to a worker (miniflare names a user
// worker's workerd service `core:user:<name>`), or what miniflare's plugin makes of a storage one.
async function realBinding(real, workerOptions, sharedOptions, workerIndex) {
  if (real.type === 'worker') return { name: 'binding', service: { name: `core:user:${real.worker}`, entrypoint: real.exportName } };
  const alone = { ...workerOptions, config: { ...workerOptions.config, env: { binding: real } } };
  const [binding] = await PLUGINS[STORAGE_PLUGINS[real.type]].getBindings(alone, sharedOptions, workerIndex);
  return binding;
}

async function wrappedBinding(name, { kind, target, real, controlWorker }, workerOptions, sharedOptions, workerIndex) {
  const control = (entrypoint) => ({ service: { name: `core:user:${controlWorker}`, entrypoint } });
  if (kind === 'analytics') {
    return { name, wrapped: { moduleName: 'local:analytics-binding', innerBindings: [
      { name: 'analytics', ...control('AnalyticsEntrypoint') },
      { name: 'dataset', text: real.name },
    ] } };
  }
  return { name, wrapped: { moduleName: 'local:guarded-binding', innerBindings: [
    await realBinding(real, workerOptions, sharedOptions, workerIndex),
    { name: 'faults', ...control('FaultsEntrypoint') },
    { name: 'kind', text: kind },
    { name: 'target', text: target },
  ] } };
}

export const plugins = wrappedBindingPlugin({
  plugin: PLUGIN,
  description: 'binding the control worker can fail or inspect',
  wrap: wrappedBinding,
  modules: () => [
    ['local:guarded-binding', source('guarded-binding.mjs')],
    ['local:analytics-binding', source('analytics-binding.mjs')],
  ],
});
