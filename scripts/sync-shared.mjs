// The [build] command of each worker: wrangler uploads only the .py files under the worker's
// base_dir, so the shared contract is copied in (a fresh copy each time: no stale modules).
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
fs.rmSync(target, { recursive: true, force: true });
fs.cpSync(source, target, {
  recursive: true,
  filter: (file) => !file.includes('__pycache__') && (fs.statSync(file).isDirectory() || file.endsWith('.py')),
});
