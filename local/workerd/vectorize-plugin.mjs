// A miniflare plugin (loaded through `unsafeBindings`) that binds the Vectorize stand-in
// (local/vectorize.mjs) where the config has `[[vectorize]]`: a wrapped binding, so
// `env.<binding>` is a Vectorize-shaped object in the worker's own isolate, whose data lives in
// the control worker's VectorStore (a D1 database in the host's state folder).
import { sourceOf, wrappedBindingPlugin } from './wrapped-plugin.mjs';

export const PLUGIN = 'local-vectorize';
const source = sourceOf(import.meta.url);

export const plugins = wrappedBindingPlugin({
  plugin: PLUGIN,
  description: 'Vectorize stand-in',
  wrap: (name, { storeWorker, index, dimensions, metric }) => ({
    name,
    wrapped: {
      moduleName: 'local:vectorize-binding',
      innerBindings: [
        { name: 'store', service: { name: `core:user:${storeWorker}`, entrypoint: 'VectorStoreEntrypoint' } },
        { name: 'index', text: index },
        { name: 'config', json: JSON.stringify({ dimensions, metric }) },
      ],
    },
  }),
  modules: () => [
    ['local:vectorize', source('../vectorize.mjs')],
    ['local:vectorize-binding', 'import { VectorizeBinding } from "local:vectorize";\n'
      + 'export default function makeBinding(env) { return new VectorizeBinding(env.store, env.index, env.config); }'],
  ],
});
