// Injected failures for reliability tests, set through the instrumented host's /__devhost/faults
// control route (workerd/standin.mjs). A rule names a target, "<worker>.<method>" for an RPC method
// of a worker's entrypoint or "<worker>.<binding>.<method>" for a binding method, and fails its next
// `count` calls (-1: every call) with `message`. With `match`, only calls whose detail (for
// D1, the SQL) contains that text count: {"target": "inference-service.DB.batch",
// "match": "INTO events"} fails event indexing and nothing else.
export class Faults {
  rules = [];

  add({ target, message = `injected failure in ${target}`, count = 1, match = '' }) {
    if (typeof target !== 'string' || !target.includes('.')) throw new TypeError('a fault needs a target such as "inference-service.DB.batch"');
    this.rules.push({ target, message, count, match, hits: 0 });
  }

  clear() {
    this.rules = [];
  }

  // The message of the failure to inject if a rule for `target` has calls left, else null.
  check(target, detail = '') {
    const rule = this.rules.find((r) => r.target === target && r.count !== 0 && detail.includes(r.match));
    if (!rule) return null;
    if (rule.count > 0) rule.count -= 1;
    rule.hits += 1;
    return rule.message;
  }
}
