// Both hosts' control routes take JSON only. A web page can POST text/plain to localhost with no
// CORS preflight (and so steer a developer's AI stand-in or fire the cron), not application/json.
export const isJson = (contentType) => /^application\/json\b/i.test(contentType ?? '');
export const NOT_JSON = { error: { code: 'unsupported_media_type', message: 'control routes take content-type: application/json' } };
// GET /__devhost/host answers the instance a host wrote in its record (local/served-host.mjs).
export const IDENTITY_ROUTE = 'host';
