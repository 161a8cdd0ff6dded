// A worker's D1, KV, R2, queue or service binding as the instrumented host gives it (instrumented-plugin.mjs):
// the runtime's own binding object (inner binding `binding`), behind a guard that asks the control
// worker (inner binding `faults`: standin.mjs's FaultsEntrypoint) whether a call is to fail before
// making it. Everything else, results included, is the real binding's, untouched.
//
// A call's fault target is "<worker>.<binding>.<method>" for storage, "<worker>.<method>" for an RPC
// method of the worker a service binding reaches; its detail (what a rule's `match` is looked for
// in) is the SQL for D1, the key or prefix for KV and R2, a message's text for a queue.
const STORAGE_METHODS = {
  kv: ['get', 'getWithMetadata', 'put', 'delete', 'list'],
  r2: ['head', 'get', 'put', 'delete', 'list', 'createMultipartUpload', 'resumeMultipartUpload'],
  queue: ['send', 'sendBatch'],
};
const STATEMENT_RUNS = ['first', 'all', 'run', 'raw'];
// Never RPC methods of a service binding: what JavaScript itself (await, JSON, string conversion) asks.
const NOT_METHODS = new Set(['constructor', 'then', 'toJSON', 'toString', 'valueOf']);

// A statement's or a call's detail for `match`: a string key, the SQL, a list's prefix.
function detailOf(args) {
  const [first] = args;
  if (typeof first === 'string') return first;
  if (Array.isArray(first)) return first.join('\n');
  return typeof first?.prefix === 'string' ? first.prefix : '';
}

// `real` with the methods `wrap(name, method)` answers for replaced; every other property as it is.
function intercept(real, wrap) {
  const wrapped = new Map();
  return new Proxy(real, {
    get(target, prop) {
      const value = target[prop];
      if (typeof prop !== 'string' || typeof value !== 'function') return value;
      if (!wrapped.has(prop)) wrapped.set(prop, wrap(prop, (...args) => Reflect.apply(value, target, args)) ?? ((...args) => Reflect.apply(value, target, args)));
      return wrapped.get(prop);
    },
  });
}

export default function makeBinding(env) {
  const { binding, faults, kind, target } = env;
  const check = async (name, detail) => {
    const message = await faults.check(name, detail);
    if (message !== null) throw new Error(message);
  };
  const guarded = (name, detail, call) => check(name, detail).then(call);

  if (kind === 'service') {
    return intercept(binding, (method, call) => (NOT_METHODS.has(method) ? null : (...args) => guarded(`${target}.${method}`, '', () => call(...args))));
  }
  if (kind === 'd1') {
    // Statements are the real ones behind a guard; a batch is given the real ones back.
    const realStatements = new WeakMap();
    const statement = (real, sql) => {
      const wrapped = intercept(real, (method, call) => {
        if (method === 'bind') return (...params) => statement(call(...params), sql);
        return STATEMENT_RUNS.includes(method) ? (...args) => guarded(`${target}.${method}`, sql, () => call(...args)) : null;
      });
      realStatements.set(wrapped, { real, sql });
      return wrapped;
    };
    return intercept(binding, (method, call) => {
      if (method === 'prepare') return (sql) => statement(call(sql), sql);
      if (method === 'batch') {
        return (statements) => {
          const reals = [...statements].map((s) => realStatements.get(s) ?? { real: s, sql: '' });
          return guarded(`${target}.batch`, reals.map((s) => s.sql).join('\n'), () => call(reals.map((s) => s.real)));
        };
      }
      return method === 'exec' ? (sql) => guarded(`${target}.exec`, sql, () => call(sql)) : null;
    });
  }
  const methods = STORAGE_METHODS[kind];
  return intercept(binding, (method, call) => (methods.includes(method) ? (...args) => guarded(`${target}.${method}`, detailOf(args), () => call(...args)) : null));
}
