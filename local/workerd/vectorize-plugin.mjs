// A miniflare plugin (loaded through `unsafeBindings`) that binds the Vectorize stand-in
// (local/vectorize.mjs) where the config has `[[vectorize]]`: a wrapped binding, so
// `env.<binding>` is a Vectorize-shaped object in the worker's own isolate, whose data lives in
// the control worker's VectorStore (a D1 database in the host's state folder).
import fs from 'node:fs';

export const PLUGIN = 'local-vectorize';
const BINDING_TYPE = `unsafe:${PLUGIN}`;
const source = (relative) => fs.readFileSync(new URL(relative, import.meta.url), 'utf8');
const vectorizeBindings = (options) => Object.entries(options.config.env ?? {}).filter(([, binding]) => binding?.type === BINDING_TYPE);

export const plugins = {
  [PLUGIN]: {
    bindingTypeDescription: 'Vectorize stand-in',
    getBindings(options) {
      return vectorizeBindings(options).map(([name, binding]) => {
        const { storeWorker, index, dimensions, metric } = binding.dev.options;
        return {
          name,
          wrapped: {
            moduleName: 'local:vectorize-binding',
            innerBindings: [
              { name: 'store', service: { name: `core:user:${storeWorker}`, entrypoint: 'VectorStoreEntrypoint' } },
              { name: 'index', text: index },
              { name: 'config', json: JSON.stringify({ dimensions, metric }) },
            ],
          },
        };
      });
    },
    getNodeBindings() {
      return {};
    },
    getServices() {
      return [];
    },
    getExtensions({ options }) {
      if (!options.some((worker) => vectorizeBindings(worker).length)) return [];
      return [{
        modules: [
          { name: 'local:vectorize', esModule: source('../vectorize.mjs'), internal: true },
          { name: 'local:vectorize-binding', esModule: 'import { VectorizeBinding } from "local:vectorize";\n'
            + 'export default function makeBinding(env) { return new VectorizeBinding(env.store, env.index, env.config); }', internal: true },
        ],
      }];
    },
  },
};
