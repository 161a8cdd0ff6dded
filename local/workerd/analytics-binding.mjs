// An Analytics Engine dataset as the instrumented host gives it (instrumented-plugin.mjs): miniflare's
// local one discards every point; this one checks each point against Analytics Engine's limits, as
// Cloudflare does, and hands it to the control worker (inner binding `analytics`: standin.mjs's
// AnalyticsEntrypoint), which keeps the latest for /__devhost/analytics.
import workers from 'cloudflare-internal:workers';

const MAX_BLOBS = 20;
const MAX_DOUBLES = 20;
const MAX_BLOB_BYTES = 16 * 1024;
const MAX_INDEX_BYTES = 96;
const encoder = new TextEncoder();
const bytes = (value) => (value == null ? 0 : typeof value === 'string' ? encoder.encode(value).byteLength : value.byteLength);

class AnalyticsEngineDataset {
  #analytics;
  #dataset;

  constructor(analytics, dataset) {
    this.#analytics = analytics;
    this.#dataset = dataset;
  }

  writeDataPoint(point = {}) {
    const { indexes = [], blobs = [], doubles = [] } = point;
    if (indexes.length > 1) throw new TypeError('Analytics Engine takes at most one index a data point');
    if (indexes.some((index) => bytes(index) > MAX_INDEX_BYTES)) throw new TypeError(`An index is at most ${MAX_INDEX_BYTES} bytes`);
    if (blobs.length > MAX_BLOBS || doubles.length > MAX_DOUBLES) throw new TypeError(`At most ${MAX_BLOBS} blobs and ${MAX_DOUBLES} doubles a data point`);
    if (blobs.reduce((sum, blob) => sum + bytes(blob), 0) > MAX_BLOB_BYTES) throw new TypeError('Blobs total at most 16 KiB a data point');
    if (doubles.some((value) => typeof value !== 'number')) throw new TypeError('Doubles must be numbers');
    // Like the real method, it returns nothing and never fails after these checks. The invocation
    // is kept alive until the control worker has the point: a write can be a waitUntil task's last act.
    workers.waitUntil(this.#analytics.record({ dataset: this.#dataset, at: new Date().toISOString(), indexes: [...indexes], blobs: [...blobs], doubles: [...doubles] })
      .catch(() => {}));
  }
}

export default function makeBinding(env) {
  return new AnalyticsEngineDataset(env.analytics, env.dataset);
}
