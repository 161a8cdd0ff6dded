// Builds the playground (playground/) into build/playground/, the api worker's static assets
// ([assets] in wrangler.toml): app.js bundled with the AI SDK's client code and uPlot (esbuild),
// uPlot's stylesheet before the page's own, and the static files as they are. Run by the api
// worker's [build] command, so `wrangler dev`, `wrangler deploy` and `make dev` all rebuild it.
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(new URL('..', import.meta.url).pathname);
const source = path.join(root, 'playground');
const out = path.join(root, 'build', 'playground');
const STATIC = ['index.html', 'graphiql.html', 'graphiql-start.js', '_headers'];

const started = performance.now();
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });
const result = await build({
  entryPoints: [path.join(source, 'app.js')],
  outfile: path.join(out, 'app.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});
for (const name of STATIC) fs.copyFileSync(path.join(source, name), path.join(out, name));
const uplotCss = fs.readFileSync(path.join(root, 'node_modules', 'uplot', 'dist', 'uPlot.min.css'), 'utf8');
fs.writeFileSync(path.join(out, 'app.css'), `${uplotCss}\n${fs.readFileSync(path.join(source, 'app.css'), 'utf8')}`);
const bytes = Object.values(result.metafile.outputs).reduce((total, output) => total + output.bytes, 0);
console.log(`==> playground built into ${path.relative(root, out)}/ (app.js ${(bytes / 1024).toFixed(0)} KiB) in ${Math.round(performance.now() - started)} ms`);
