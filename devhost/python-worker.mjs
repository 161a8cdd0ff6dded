// One Python Worker in its own Pyodide instance, driven the way workerd drives it:
// the `_pyodide_entrypoint_helper` and `_cloudflare_compat_flags` modules that the
// workers-runtime-sdk imports, the bundle under /session/metadata, a fresh entrypoint
// instance per call, and python_from_rpc / python_to_rpc around every call.
import fs from 'node:fs';
import path from 'node:path';
import { loadPyodide } from 'pyodide';
import { currentInvocation } from './invocation.mjs';

const BUNDLE_ROOT = '/session/metadata';
const INTROSPECTION = fs.readFileSync(new URL('./introspection.py', import.meta.url), 'utf8');

// Flags the SDK reads; the values are those of the compatibility date in wrangler.toml.
const COMPAT_FLAGS = {
  python_workflows_implicit_dependencies: true,
  python_request_headers_preserve_commas: true,
  python_no_global_handlers: true,
};

export class ExecutionContext {
  #pending = new Set();
  props = {};

  get [Symbol.toStringTag]() {
    return 'ExecutionContext';
  }

  waitUntil(promise) {
    const tracked = Promise.resolve(promise).catch((err) => {
      console.error('[devhost] waitUntil task failed:', err?.message ?? err);
    });
    this.#pending.add(tracked);
    tracked.finally(() => this.#pending.delete(tracked));
  }

  passThroughOnException() {}

  settled() {
    return Promise.allSettled([...this.#pending]);
  }
}

// Outside any call, `cloudflare:workers`' waitUntil (the SDK's `workers.wait_until`) still
// needs a context to keep the work alive.
const detachedContext = new ExecutionContext();

// A Python-owned future handed to waitUntil is borrowed: keep our own copy until it settles,
// as workerd's helper does.
function keepUntilSettled(promise) {
  const owned = typeof promise?.copy === 'function' ? promise.copy() : promise;
  return (async () => {
    try {
      await owned;
    } finally {
      owned?.destroy?.();
    }
  })();
}

const patchedContexts = new WeakSet();
function patchWaitUntil(ctx) {
  if (Object.prototype.toString.call(ctx) !== '[object ExecutionContext]') return;
  if (patchedContexts.has(ctx)) return;
  const original = ctx.waitUntil.bind(ctx);
  ctx.waitUntil = (promise) => original(keepUntilSettled(promise));
  patchedContexts.add(ctx);
}

function listBundleFiles(baseDir) {
  const files = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === '__pycache__' || entry.name.startsWith('.')) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && entry.name.endsWith('.py')) files.push(full);
    }
  };
  walk(baseDir);
  return files;
}

export class PythonWorker {
  constructor({ name, baseDir, mainModule, wheels, log }) {
    this.name = name;
    this.baseDir = baseDir;
    this.mainModule = mainModule;
    this.wheels = wheels;
    this.log = log;
    this.env = {};
    this.timings = {};
  }

  async boot() {
    let started = performance.now();
    const line = (stream) => (text) => this.log(stream, text);
    this.pyodide = await loadPyodide({ stdout: line('log'), stderr: line('error') });
    this.timings.pyodideMs = performance.now() - started;

    started = performance.now();
    if (this.wheels.length) {
      await this.pyodide.loadPackage(this.wheels, { messageCallback: () => {}, errorCallback: line('error') });
    }
    this.timings.packagesMs = performance.now() - started;

    const workersModule = {
      env: this.env,
      waitUntil: (promise) => (currentInvocation.getStore() ?? detachedContext).waitUntil(keepUntilSettled(promise)),
    };
    this.pyodide.registerJsModule('_pyodide_entrypoint_helper', {
      cloudflareWorkersModule: workersModule,
      cloudflareSocketsModule: {},
      doAnImport: async (name) => (name === 'cloudflare:workers' ? workersModule : import(name)),
      patchWaitUntil,
    });
    this.pyodide.registerJsModule('_cloudflare_compat_flags', COMPAT_FLAGS);
    this.#writeBundle();
  }

  #writeBundle() {
    const { FS } = this.pyodide;
    FS.mkdirTree(BUNDLE_ROOT);
    for (const file of listBundleFiles(this.baseDir)) {
      const target = path.posix.join(BUNDLE_ROOT, path.relative(this.baseDir, file).split(path.sep).join('/'));
      FS.mkdirTree(path.posix.dirname(target));
      FS.writeFile(target, fs.readFileSync(file));
    }
    this.pyodide.runPython(`import sys; sys.path.insert(0, ${JSON.stringify(BUNDLE_ROOT)})`);
  }

  // Imports the main module; `env` is filled in by the host before the first request.
  async start(env) {
    Object.assign(this.env, env);
    const started = performance.now();
    this.main = await this.pyodide.pyimport(this.mainModule);
    this.timings.importMs = performance.now() - started;
    const introspection = this.pyodide.runPython(
      `from types import ModuleType; ModuleType('devhost_introspection')`,
    );
    this.pyodide.runPython(INTROSPECTION, { globals: introspection.__dict__ });
    this.callMethod = introspection.call_method;
    this.entrypoints = introspection.collect_entrypoints(this.main);
  }

  // cProfile over everything this worker's Python runs between "start" and "stop".
  profile(action, top, sort) {
    const code = action === 'start'
      ? 'import cProfile\n_devhost_profile = cProfile.Profile()\n_devhost_profile.enable()\n""'
      : `import io, pstats\n_devhost_profile.disable()\n_out = io.StringIO()\npstats.Stats(_devhost_profile, stream=_out).sort_stats(${JSON.stringify(sort)}).print_stats(${Number(top)})\n_out.getvalue()`;
    return this.pyodide.runPython(code, { globals: this.pyodide.globals });
  }

  hasEntrypoint(className) {
    return Object.hasOwn(this.entrypoints, className);
  }

  methodsOf(className) {
    return this.entrypoints[className] ?? [];
  }

  // Calls `method` on a new instance of the entrypoint class, as workerd does per request.
  async call(className, method, args, ctx = new ExecutionContext()) {
    if (!this.hasEntrypoint(className)) {
      throw new TypeError(`There is no '${className}' class defined in the Python Worker's main module`);
    }
    if (!this.methodsOf(className).includes(method)) {
      throw new TypeError(`Method ${method} does not exist`); // workerd's words
    }
    return currentInvocation.run(ctx, () => this.#call(className, method, args, ctx));
  }

  async #call(className, method, args, ctx) {
    const cls = this.main[className];
    const instance = await cls.callWithOptions({ relaxed: false, promising: true }, ctx, this.env);
    try {
      const relaxed = method === 'fetch';
      return await this.callMethod.callWithOptions(
        { relaxed: false, promising: true },
        relaxed,
        instance,
        method,
        ...args,
      );
    } finally {
      cls.destroy();
      instance.destroy();
    }
  }
}
