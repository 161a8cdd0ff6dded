// Imported before the AI SDK: it validates stream chunks with zod, which, as its schemas are
// defined, probes whether it may compile code with `new Function`. The page's CSP says no (no
// 'unsafe-eval'), and the probe would log a violation in every visitor's console.
import { config } from 'zod/v4/core';

config({ jitless: true });
