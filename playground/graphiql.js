// GraphiQL at /graphiql, bundled with the playground (scripts/build-playground.mjs): no CDN, so it
// works offline and runs nothing but these files where the key lives. Its queries go to /graphql
// with the playground's key (this tab's session storage), sent as the Authorization header and
// never shown; without one, the headers tab holds a placeholder to fill in.
import 'graphiql/style.css';
import { GraphiQL } from 'graphiql';
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { KEY_STORAGE } from './key.js';

// Monaco's editors parse and check in web workers, built as files of their own beside this one.
const WORKERS = { json: 'json.worker.js', graphql: 'graphql.worker.js' };
globalThis.MonacoEnvironment = {
  getWorker: (_id, label) => new Worker(new URL(WORKERS[label] ?? 'editor.worker.js', import.meta.url)),
};

const key = sessionStorage.getItem(KEY_STORAGE);

async function fetcher(request, { headers: typed = {} } = {}) {
  const headers = new Headers({ 'content-type': 'application/json', accept: 'application/graphql-response+json' });
  if (key) headers.set('authorization', `Bearer ${key}`);
  // Headers typed in the headers tab replace these, whatever their case.
  for (const [name, value] of Object.entries(typed)) headers.set(name, value);
  const response = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify(request) });
  return response.json();
}

const props = key ? { fetcher } : { fetcher, defaultHeaders: JSON.stringify({ Authorization: 'Bearer <your key>' }, null, 2) };
createRoot(document.getElementById('graphiql')).render(createElement(GraphiQL, props));
