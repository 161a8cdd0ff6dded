// The local D1 databases' migrations, applied to the running host's databases the way
// `wrangler d1 migrations apply --local` applies them (its tracking table and names, each file
// with its row in one transaction), so either can run after the other on the same state folder.
// Here, through the host's own miniflare instead of a wrangler process of its own (about 5 s a start).
import fs from 'node:fs';
import path from 'node:path';

const DEFAULT_MIGRATIONS_TABLE = 'd1_migrations';

function quotedIdentifier(name) {
  return `"${name.replace(/"/g, '""')}"`;
}

// `database(config, binding)`: the D1 binding (as miniflare's getD1Database gives it) of that
// worker's database. Two backends bound to one database apply its migrations once.
export async function applyMigrations(configs, database, log) {
  const done = new Set();
  for (const config of configs) {
    for (const db of config.d1_databases ?? []) {
      const id = db.preview_database_id ?? db.database_id ?? db.binding;
      if (!db.migrations_dir || done.has(id)) continue;
      done.add(id);
      const dir = path.resolve(config.configDir, db.migrations_dir);
      const table = quotedIdentifier(db.migrations_table ?? DEFAULT_MIGRATIONS_TABLE);
      const d1 = await database(config, db.binding);
      await d1.prepare(`CREATE TABLE IF NOT EXISTS ${table}(
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT UNIQUE,
    applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL
);`).run();
      const applied = new Set((await d1.prepare(`SELECT name FROM ${table}`).all()).results.map((row) => row.name));
      const pending = fs.readdirSync(dir).filter((name) => name.endsWith('.sql') && !applied.has(name)).sort();
      for (const name of pending) {
        await d1.batch([d1.prepare(fs.readFileSync(path.join(dir, name), 'utf8')), d1.prepare(`INSERT INTO ${table} (name) VALUES (?)`).bind(name)]);
      }
      log(`D1 ${db.binding}: ${pending.length ? `${pending.length} migrations applied` : 'migrations up to date'}`);
    }
  }
}
