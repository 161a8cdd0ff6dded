// Service bindings between local workers: a `Fetcher` whose methods are JS RPC calls into
// another worker's entrypoint. Values cross with structured-clone semantics, as on
// Cloudflare: plain data is copied, streams and Request/Response pass through (their
// bodies stream), functions become stubs, anything else is refused with a DataCloneError.
import { ExecutionContext } from './python-worker.mjs';

const PASS_THROUGH = [ReadableStream, WritableStream, Request, Response, Headers];
const CLONED = [Date, RegExp, ArrayBuffer, Map, Set, Error, Blob, URL];

function typeName(value) {
  return value?.constructor?.name || Object.prototype.toString.call(value).slice(8, -1);
}

function isPyProxy(value) {
  return typeof value?.toJs === 'function' && typeof value?.destroy === 'function' && 'type' in value;
}

export function cloneForRpc(value, seen = new Map()) {
  if (value === null || value === undefined) return value;
  const kind = typeof value;
  if (kind !== 'object' && kind !== 'function') return value;
  if (seen.has(value)) return seen.get(value);
  if (kind === 'function') {
    if (isPyProxy(value) && !value.type?.includes('function') && !value.type?.includes('method')) {
      throw dataCloneError(value);
    }
    const callback = value;
    const stub = (...args) => Promise.resolve(callback(...args.map((arg) => cloneForRpc(arg)))).then((r) => cloneForRpc(r));
    seen.set(value, stub);
    return stub;
  }
  if (isPyProxy(value)) throw dataCloneError(value);
  if (PASS_THROUGH.some((type) => value instanceof type)) return value;
  if (ArrayBuffer.isView(value) || CLONED.some((type) => value instanceof type)) return structuredClone(value);
  if (Array.isArray(value)) {
    const copy = [];
    seen.set(value, copy);
    for (const item of value) copy.push(cloneForRpc(item, seen));
    return copy;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    const copy = {};
    seen.set(value, copy);
    for (const [key, item] of Object.entries(value)) copy[key] = cloneForRpc(item, seen);
    return copy;
  }
  throw dataCloneError(value);
}

// workerd's own messages: a Python object reaches JS as a Proxy, which it names as such.
function dataCloneError(value) {
  const message = isPyProxy(value)
    ? 'Proxy could not be serialized because it is not a valid RPC receiver type. The Proxy must emulate either a plain object or an RpcTarget, as indicated by the Proxy\'s prototype chain.'
    : `Could not serialize object of type "${typeName(value)}". This type does not support serialization.`;
  return new DOMException(message, 'DataCloneError');
}

// Errors cross as plain errors carrying name and message; the callee's stack stays behind.
function remoteError(err) {
  const copy = new Error(err?.message ?? String(err));
  copy.name = err?.name ?? 'Error';
  return copy;
}

export function serviceBinding(target, entrypoint, faults) {
  class Fetcher {}
  const binding = new Fetcher();
  const call = async (method, args) => {
    const sent = args.map((arg) => cloneForRpc(arg));
    let result;
    try {
      faults?.check(`${target.name}.${method}`);
      result = await target.call(entrypoint, method, sent, new ExecutionContext());
    } catch (err) {
      throw remoteError(err);
    }
    return cloneForRpc(result);
  };
  const methods = new Map();
  return new Proxy(binding, {
    get(obj, prop) {
      if (prop === 'constructor') return Fetcher;
      // Not thenable, not iterable: the object is a stub, not a value.
      if (typeof prop !== 'string' || prop === 'then' || prop === 'toJSON') return undefined;
      if (!methods.has(prop)) methods.set(prop, (...args) => call(prop, args));
      return methods.get(prop);
    },
  });
}
