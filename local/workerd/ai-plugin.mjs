// A miniflare plugin (loaded through `unsafeBindings`) that binds the Workers AI stand-in
// where the config has `[ai]`: a wrapped binding, so `env.AI` is an `Ai` object inside the
// worker's isolate, like Cloudflare's, not a service binding (whose streams would lose their
// errors' messages crossing RPC). The knobs stay in the control worker (standin.mjs).
import { sourceOf, wrappedBindingPlugin } from './wrapped-plugin.mjs';

export const PLUGIN = 'local-ai';
const source = sourceOf(import.meta.url);

export const plugins = wrappedBindingPlugin({
  plugin: PLUGIN,
  description: 'Workers AI stand-in',
  wrap: (name, { recorderWorker, worker }) => ({
    name,
    wrapped: {
      moduleName: 'local:ai-binding',
      // miniflare names a user worker's workerd service `core:user:<name>`.
      innerBindings: [
        { name: 'recorder', service: { name: `core:user:${recorderWorker}`, entrypoint: 'AiRecorderEntrypoint' } },
        // Which worker calls: a failure can be aimed at one inference backend.
        { name: 'worker', text: worker ?? '' },
      ],
    },
  }),
  modules: () => [['local:ai', source('../ai.mjs')], ['local:ai-binding', source('ai-binding.mjs')]],
});
