// What the host needs to know about one worker, read from its wrangler config the way
// wrangler reads it: name, main module, bundle folder, vars (+ .dev.vars), bindings and the
// Pyodide wheels for the pyproject.toml that pywrangler would vendor from.
import fs from 'node:fs';
import path from 'node:path';
import { unstable_readConfig } from 'wrangler';

export const PROJECT_ROOT = path.resolve(new URL('..', import.meta.url).pathname);
export const WHEELS_DIR = path.join(PROJECT_ROOT, '.devhost', 'wheels');

function nearestPyproject(dir) {
  for (let current = dir; ; current = path.dirname(current)) {
    if (fs.existsSync(path.join(current, 'pyproject.toml'))) return path.join(current, 'pyproject.toml');
    if (current === path.dirname(current)) return null;
  }
}

// scripts/bootstrap.py downloads the wheels for each pyproject.toml into a folder named after
// its path relative to the project, e.g. `inference_worker__pyproject.toml`.
export function wheelsFor(pyproject) {
  const slug = path.relative(PROJECT_ROOT, pyproject).split(path.sep).join('__');
  const dir = path.join(WHEELS_DIR, slug);
  if (!fs.existsSync(dir)) {
    throw new Error(`No Pyodide wheels for ${pyproject}: run \`make setup\` (scripts/bootstrap.py) first`);
  }
  return fs.readdirSync(dir).filter((f) => f.endsWith('.whl')).map((f) => path.join(dir, f));
}

function parseDevVars(file) {
  if (!fs.existsSync(file)) return {};
  const vars = {};
  for (const line of fs.readFileSync(file, 'utf8').split(/\r?\n/)) {
    const match = line.match(/^\s*([\w.-]+)\s*=\s*(.*)?\s*$/);
    if (!match || line.trimStart().startsWith('#')) continue;
    vars[match[1]] = (match[2] ?? '').replace(/^(['"])(.*)\1$/, '$2');
  }
  return vars;
}

export function readWorkerConfig(configPath) {
  const config = unstable_readConfig({ config: configPath });
  const configDir = path.dirname(path.resolve(configPath));
  const main = path.resolve(config.main);
  const baseDir = config.base_dir ? path.resolve(config.base_dir) : path.dirname(main);
  if (!main.endsWith('.py')) throw new Error(`${configPath}: main must be a .py file`);
  const pyproject = nearestPyproject(configDir);
  return {
    ...config,
    configPath: path.resolve(configPath),
    configDir,
    baseDir,
    mainModule: path.relative(baseDir, main).slice(0, -3).split(path.sep).join('.'),
    wheels: pyproject ? wheelsFor(pyproject) : [],
    // Like wrangler dev: [vars] overlaid by .dev.vars next to the config (secrets live there).
    vars: { ...config.vars, ...parseDevVars(path.join(configDir, '.dev.vars')) },
  };
}
