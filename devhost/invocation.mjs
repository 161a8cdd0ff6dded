// The invocation a piece of worker code runs for. workerd ties waitUntil, and limits such as
// Analytics Engine's 25 writes, to the invocation (the ExecutionContext of one fetch, RPC call
// or scheduled event), including the work it hands to waitUntil.
import { AsyncLocalStorage } from 'node:async_hooks';

export const currentInvocation = new AsyncLocalStorage();
