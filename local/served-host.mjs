// Where a host serves, for the scripts that send it the admin token (scripts/served_host.py:
// `make key`, `make replay`). Written into the host's state folder once it listens, removed when
// it stops. A script trusts the recorded port only while the recorded process lives and the
// host on that port answers /__devhost/host (control-guard.mjs) with the instance written
// here: a listener that took the port cannot know it (the file is readable by its owner only),
// and the check sends no credentials.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const RECORD_NAME = 'served-host.json';

// An address to listen on everywhere is reached at the loopback address.
function connectableUrl(ip, port) {
  const host = ['0.0.0.0', '::', ''].includes(ip) ? '127.0.0.1' : ip.includes(':') ? `[${ip}]` : ip;
  return `http://${host}:${port}`;
}

export function hostInstance() {
  return randomUUID();
}

export function recordServedHost(stateDir, ip, port, instance) {
  const file = path.join(stateDir, RECORD_NAME);
  fs.mkdirSync(stateDir, { recursive: true });
  const record = { url: connectableUrl(ip, port), pid: process.pid, instance };
  fs.writeFileSync(file, `${JSON.stringify(record)}\n`, { mode: 0o600 });
  fs.chmodSync(file, 0o600); // an older record's mode would otherwise stay
  process.on('exit', () => {
    try {
      // Only our own record: a host started since on the same state wrote its own.
      if (JSON.parse(fs.readFileSync(file, 'utf8')).instance === instance) fs.rmSync(file);
    } catch {
      // Already gone, or unreadable: nothing of ours to remove.
    }
  });
}
