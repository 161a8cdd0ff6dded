// Builds the playground (playground/) into build/playground/, the api worker's static assets
// ([assets] in wrangler.toml): app.js bundled with the AI SDK's client code and uPlot (esbuild),
// uPlot's stylesheet before the page's own, GraphiQL bundled into graphiql-bundle/ (its code
// split so that the editor loads after the page, and Monaco's web workers as files of their
// own), and the static files as they are. Run by the api worker's [build] command, so `wrangler
// dev`, `wrangler deploy` and `make dev` all run it; it builds again only when what it builds
// from changed (the playground's files, the locked packages, this script), which build/
// records outside the assets folder.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(new URL('..', import.meta.url).pathname);
const source = path.join(root, 'playground');
const out = path.join(root, 'build', 'playground');
const graphiqlOut = path.join(out, 'graphiql-bundle');
const STATIC = ['index.html', 'graphiql.html', '_headers'];
// Monaco's workers, named as playground/graphiql.js asks for them.
const WORKERS = {
  'editor.worker': 'monaco-editor/esm/vs/editor/editor.worker.js',
  'json.worker': 'monaco-editor/esm/vs/language/json/json.worker.js',
  'graphql.worker': 'monaco-graphql/esm/graphql.worker.js',
};
// Monaco's modules import their own stylesheets, which graphiql/style.css already holds whole
// (and esbuild would leave those of lazily loaded chunks in files nothing loads): read as empty.
const monacoStylesInGraphiQL = {
  name: 'monaco-styles-in-graphiql',
  setup(build) {
    const monaco = `${path.sep}node_modules${path.sep}monaco-editor${path.sep}`;
    build.onResolve({ filter: /\.css$/ }, (args) => (args.importer.includes(monaco) ? { path: args.path, namespace: 'monaco-style' } : undefined));
    build.onLoad({ filter: /.*/, namespace: 'monaco-style' }, () => ({ contents: '', loader: 'empty' }));
  },
};
const COMMON = { bundle: true, platform: 'browser', target: 'es2022', minify: true, legalComments: 'none', metafile: true, logLevel: 'warning' };

// Every input of the build, hashed in a stable order.
function inputsHash() {
  const hash = createHash('sha256');
  const files = [new URL(import.meta.url).pathname, path.join(root, 'package-lock.json'),
    ...fs.readdirSync(source, { recursive: true }).map((name) => path.join(source, name)).sort()];
  for (const file of files) {
    if (!fs.existsSync(file) || !fs.statSync(file).isFile()) continue;
    hash.update(`${path.relative(root, file)}\0`).update(fs.readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}

const stamp = path.join(root, 'build', '.playground-inputs');
const inputs = inputsHash();
if (fs.existsSync(path.join(out, 'index.html')) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === inputs) {
  console.log(`==> playground in ${path.relative(root, out)}/: up to date`);
  process.exit(0);
}
const started = performance.now();
fs.rmSync(stamp, { force: true });
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });
const results = await Promise.all([
  build({ ...COMMON, entryPoints: [path.join(source, 'app.js')], outfile: path.join(out, 'app.js'), format: 'esm' }),
  build({
    ...COMMON, entryPoints: [path.join(source, 'graphiql.js')], outdir: graphiqlOut, format: 'esm', splitting: true,
    chunkNames: 'chunk-[hash]',
    define: { 'process.env.NODE_ENV': '"production"' }, plugins: [monacoStylesInGraphiQL],
  }),
  build({ ...COMMON, entryPoints: WORKERS, outdir: graphiqlOut, format: 'iife' }),
]);
for (const name of STATIC) fs.copyFileSync(path.join(source, name), path.join(out, name));
const uplotCss = fs.readFileSync(path.join(root, 'node_modules', 'uplot', 'dist', 'uPlot.min.css'), 'utf8');
fs.writeFileSync(path.join(out, 'app.css'), `${uplotCss}\n${fs.readFileSync(path.join(source, 'app.css'), 'utf8')}`);
const kib = (result) => (Object.values(result.metafile.outputs).reduce((total, output) => total + output.bytes, 0) / 1024).toFixed(0);
console.log(`==> playground in ${path.relative(root, out)}/: built (app.js ${kib(results[0])} KiB; GraphiQL ${kib(results[1])} KiB, `
  + `its workers ${kib(results[2])} KiB) in ${Math.round(performance.now() - started)} ms`);
fs.writeFileSync(stamp, inputs);
