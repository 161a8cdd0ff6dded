// The AI binding as the workerd host gives it to a worker: an `Ai` object in the worker's own
// isolate (as Cloudflare's is), made by workerd from this internal module with one inner
// binding, `recorder`: the control worker's AiRecorder entrypoint, which holds the knobs.
import { Ai } from 'local:ai';

export default function makeBinding(env) {
  return new Ai(env.recorder, env.worker);
}
