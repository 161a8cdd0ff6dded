// Runs a host script and starts it again when the workers' code changes, as `node --watch-path`
// does, but blind to what the host's own start writes into the watched folders: each worker's
// copy of shared/ (its [build] step, scripts/sync-shared.mjs), vendored packages, caches and dot
// folders. Node's watcher cannot leave paths out, so the first start of a fresh clone, whose
// copies did not exist yet, restarted itself once, and every edit of shared/ restarted it twice.
//
//   node local/watch.mjs --watch-path=DIR [--watch-path=DIR ...] -- [node flags] script [args]
//
// WATCH_VERBOSE=1 logs each change as it is seen, ignored or not, in the order they came.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const IGNORED_PARTS = new Set(['__pycache__', 'python_modules', 'node_modules']);

// Whether a change at `relative` (inside the watched folder `root`) is the host's own doing: a
// `shared` folder inside a watched folder other than shared/ itself is the build's copy of it.
export function ignored(root, relative) {
  const parts = relative.split(path.sep);
  if (parts.some((part) => IGNORED_PARTS.has(part) || part.startsWith('.'))) return true;
  return path.basename(root) !== 'shared' && parts[0] === 'shared';
}

function parse(argv) {
  const split = argv.indexOf('--');
  if (split < 0 || split === argv.length - 1) throw new Error('usage: node local/watch.mjs --watch-path=DIR ... -- script [args]');
  const roots = argv.slice(0, split).filter((arg) => arg.startsWith('--watch-path=')).map((arg) => arg.slice('--watch-path='.length));
  return { roots, command: argv.slice(split + 1) };
}

function main() {
  const { roots, command } = parse(process.argv.slice(2));
  let child = null;
  let stopping = false;
  let restarting = false;
  let pending = null;

  const start = () => {
    child = spawn(process.execPath, command, { stdio: 'inherit' });
    child.on('exit', (code, signal) => {
      child = null;
      if (stopping) process.exit(0);
      if (!restarting) console.log(`[watch] ${command.join(' ')} ended (${signal ?? code}); waiting for a change to start it again`);
    });
  };
  const restart = (file) => {
    pending = null;
    console.log(`[watch] ${file} changed: restarting`);
    if (child === null) return start();
    restarting = true;
    child.once('exit', () => { restarting = false; start(); });
    child.kill('SIGTERM');
  };

  const verbose = process.env.WATCH_VERBOSE === '1';
  for (const root of roots) {
    fs.watch(root, { recursive: true }, (_event, relative) => {
      if (!relative) return;
      const skip = ignored(root, relative);
      if (verbose) console.log(`[watch] seen ${path.join(root, relative)}${skip ? ': ignored' : ''}`);
      if (skip) return;
      clearTimeout(pending);
      pending = setTimeout(() => restart(path.join(root, relative)), 100);  // an editor's save is often several events
    });
  }
  // Ctrl-C reaches the host too (same process group): wait for it to stop. A SIGTERM is ours alone: pass it on.
  process.on('SIGINT', () => { stopping = true; if (child === null) process.exit(0); });
  process.on('SIGTERM', () => { stopping = true; if (child === null) process.exit(0); child.kill('SIGTERM'); });
  start();
}

if (import.meta.url === `file://${process.argv[1]}`) main();
