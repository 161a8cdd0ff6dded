// The [build] command of each worker: wrangler uploads only the .py files under the worker's
// base_dir, so the shared contract is copied in. Files are written only when they differ and
// stale ones are removed, so a watcher on the worker's folder sees real changes only.
// Usage: node scripts/sync-shared.mjs <worker dir, relative to the project root>
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(new URL('..', import.meta.url).pathname);
const workerDir = process.argv[2];
if (!workerDir) {
  console.error('usage: node scripts/sync-shared.mjs <worker dir>');
  process.exit(2);
}
const source = path.join(root, 'shared');
const target = path.join(root, workerDir, 'shared');

function pythonFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true })
    .filter((file) => file.endsWith('.py') && !file.split(path.sep).includes('__pycache__'));
}

const wanted = new Set(pythonFiles(source));
for (const file of wanted) {
  const content = fs.readFileSync(path.join(source, file));
  const destination = path.join(target, file);
  if (fs.existsSync(destination) && fs.readFileSync(destination).equals(content)) continue;
  fs.mkdirSync(path.dirname(destination), { recursive: true });
  fs.writeFileSync(destination, content);
}
for (const file of pythonFiles(target)) {
  if (!wanted.has(file)) fs.rmSync(path.join(target, file));
}
