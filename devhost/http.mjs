// Between Node's HTTP server and the Fetch API the workers speak: requests in, responses
// streamed out chunk by chunk (nothing is buffered), client disconnects cancelling the body.
import http from 'node:http';
import { Readable } from 'node:stream';

export function toRequest(req, origin) {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    for (const item of [].concat(value)) headers.append(name, item);
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  return new Request(new URL(req.url, origin), {
    method: req.method,
    headers,
    body: hasBody ? Readable.toWeb(req) : undefined,
    duplex: hasBody ? 'half' : undefined,
  });
}

export async function sendResponse(req, res, response) {
  const headers = {};
  // Answered before the body was read (say, refused as too large): this connection cannot
  // carry another request, so say so rather than leave the client to find out.
  if (!req.complete) headers.connection = 'close';
  for (const [name, value] of response.headers) headers[name] = name === 'set-cookie' ? response.headers.getSetCookie() : value;
  res.writeHead(response.status, response.statusText || http.STATUS_CODES[response.status] || '', headers);
  if (!response.body) return res.end();
  const reader = response.body.getReader();
  res.on('close', () => {
    if (!res.writableFinished) reader.cancel(new Error('client disconnected')).catch(() => {});
  });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      res.write(value);
    }
    res.end();
  } catch (err) {
    console.error(`[devhost] response stream failed: ${err?.message ?? err}`);
    res.destroy(err);
  }
}

export async function readJson(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return body ? JSON.parse(body) : {};
}
