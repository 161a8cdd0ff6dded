// What the local host's three miniflare plugins share (ai-plugin.mjs, vectorize-plugin.mjs,
// instrumented-plugin.mjs): miniflare's plugin interface for bindings that are wrapped bindings (a
// module run in the worker's own isolate), found in a worker's config as `unsafe:<plugin>`, and
// the modules they load, registered only when some worker has such a binding.
import fs from 'node:fs';

// A module's source, next to `base` (a plugin's import.meta.url).
export const sourceOf = (base) => (relative) => fs.readFileSync(new URL(relative, base), 'utf8');

// `wrap(name, options, workerOptions, sharedOptions, workerIndex)`: the wrapped binding (or a promise
// of it) for one binding of this plugin; `modules()`: [module name, its source] for the extension.
export function wrappedBindingPlugin({ plugin, description, wrap, modules }) {
  const type = `unsafe:${plugin}`;
  const bindingsOf = (options) => Object.entries(options.config.env ?? {}).filter(([, binding]) => binding?.type === type);
  return {
    [plugin]: {
      bindingTypeDescription: description,
      getBindings(workerOptions, sharedOptions, workerIndex) {
        return Promise.all(bindingsOf(workerOptions).map(([name, binding]) =>
          wrap(name, binding.dev.options, workerOptions, sharedOptions, workerIndex)));
      },
      getNodeBindings() {
        return {};
      },
      getServices() {
        return [];
      },
      getExtensions({ options }) {
        if (!options.some((worker) => bindingsOf(worker).length)) return [];
        return [{ modules: modules().map(([name, esModule]) => ({ name, esModule, internal: true })) }];
      },
    },
  };
}
