// Runs a query with urql (@urql/core, its defaults: a short query goes as GET) against a server,
// and prints what the app would get, with the method and Accept header each request used, as JSON.
//
//   node client.mjs <base url> '<json options>'   options: {query, variables, headers}
import { Client, cacheExchange, fetchExchange } from '@urql/core';

const [baseUrl, optionsJson = '{}'] = process.argv.slice(2);
const options = JSON.parse(optionsJson);
const requests = [];

// urql's own fetch, watched: the method and Accept it chose are what the test is about.
async function watchedFetch(url, init) {
  requests.push({ method: init?.method ?? 'GET', accept: new Headers(init?.headers).get('accept'), url: String(url) });
  return fetch(url, init);
}

const client = new Client({
  url: `${baseUrl}/graphql`, exchanges: [cacheExchange, fetchExchange], fetch: watchedFetch,
  fetchOptions: { headers: options.headers ?? {} },
});
const result = await client.query(options.query, options.variables ?? {}).toPromise();
console.log(JSON.stringify({
  data: result.data ?? null,
  error: result.error ? { message: result.error.message, graphQLErrors: result.error.graphQLErrors.map((e) => e.extensions) } : null,
  requests,
}));
