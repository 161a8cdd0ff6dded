// A miniflare plugin (loaded through `unsafeBindings`) that binds the Workers AI stand-in
// where the config has `[ai]`: a wrapped binding, so `env.AI` is an `Ai` object inside the
// worker's isolate, like Cloudflare's, not a service binding (whose streams would lose their
// errors' messages crossing RPC). The knobs stay in the control worker (standin.mjs).
import fs from 'node:fs';

export const PLUGIN = 'local-ai';
const BINDING_TYPE = `unsafe:${PLUGIN}`;
const source = (relative) => fs.readFileSync(new URL(relative, import.meta.url), 'utf8');
const aiBindings = (options) => Object.entries(options.config.env ?? {}).filter(([, binding]) => binding?.type === BINDING_TYPE);

export const plugins = {
  [PLUGIN]: {
    bindingTypeDescription: 'Workers AI stand-in',
    getBindings(options) {
      return aiBindings(options).map(([name, binding]) => ({
        name,
        wrapped: {
          moduleName: 'local:ai-binding',
          // miniflare names a user worker's workerd service `core:user:<name>`.
          innerBindings: [
            { name: 'recorder', service: { name: `core:user:${binding.dev.options.recorderWorker}`, entrypoint: 'AiRecorderEntrypoint' } },
            // Which worker calls: a failure can be aimed at one inference backend.
            { name: 'worker', text: binding.dev.options.worker ?? '' },
          ],
        },
      }));
    },
    getNodeBindings() {
      return {};
    },
    getServices() {
      return [];
    },
    getExtensions({ options }) {
      if (!options.some((worker) => aiBindings(worker).length)) return [];
      return [{
        modules: [
          { name: 'local:ai', esModule: source('../ai.mjs'), internal: true },
          { name: 'local:ai-binding', esModule: source('ai-binding.mjs'), internal: true },
        ],
      }];
    },
  },
};
