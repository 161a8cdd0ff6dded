// Runs the Vercel AI SDK's own client-side readers against a server, and prints what a
// frontend would end up with, as JSON. The `ai` package's useChat/useCompletion/useObject
// hooks are thin React state around exactly these functions.
//
//   node clients.mjs <ai|ai-v5> <base url> <chat|chat-tools|completion|object> '<json options>'
const [sdkName, baseUrl, scenario, optionsJson = '{}'] = process.argv.slice(2);
const sdk = await import(sdkName);
const options = JSON.parse(optionsJson);
const headers = options.headers ?? {};

async function chat() {
  const transport = new sdk.DefaultChatTransport({ api: `${baseUrl}/stream/chat`, headers, body: options.body ?? {} });
  const messages = [{ id: 'user-1', role: 'user', parts: options.parts ?? [{ type: 'text', text: options.text ?? 'Hello' }] }];
  const errors = [];
  let message;
  try {
    const stream = await transport.sendMessages({
      chatId: 'chat-1', messages, trigger: 'submit-message', messageId: undefined, abortSignal: undefined,
    });
    for await (const update of sdk.readUIMessageStream({ stream, onError: (e) => errors.push(String(e?.message ?? e)) })) {
      message = update;
    }
  } catch (err) {
    errors.push(String(err?.message ?? err));
  }
  return { message, errors };
}

// Reads one answer as useChat does: continuing `message` (the assistant message a tool result
// was added to), or a new one.
async function answer(transport, messages, message) {
  const errors = [];
  let last = message;
  try {
    const stream = await transport.sendMessages({
      chatId: 'chat-1', messages, trigger: 'submit-message', messageId: message?.id, abortSignal: undefined,
    });
    for await (const update of sdk.readUIMessageStream({ message, stream, onError: (e) => errors.push(String(e?.message ?? e)) })) {
      last = update;
    }
  } catch (err) {
    errors.push(String(err?.message ?? err));
  }
  return { message: last, errors };
}

// A client-side tool, as useChat runs one: the answer calls it, the client adds its output to the
// call's part (what addToolResult does), useChat sends the conversation back once every call of
// the last step has its output (lastAssistantMessageIsCompleteWithToolCalls), and the model answers.
async function chatTools() {
  const transport = new sdk.DefaultChatTransport({ api: `${baseUrl}/stream/chat`, headers, body: options.body ?? {} });
  const user = { id: 'user-1', role: 'user', parts: [{ type: 'text', text: options.text ?? 'Hello' }] };
  const first = await answer(transport, [user]);
  if (!first.message) return { first: first.message, errors: first.errors };
  const answered = {
    ...first.message,
    parts: first.message.parts.map((part) => (sdk.isToolUIPart(part) && part.state === 'input-available'
      ? { ...part, state: 'output-available', output: options.output } : part)),
  };
  const readyToSend = sdk.lastAssistantMessageIsCompleteWithToolCalls({ messages: [user, answered] });
  const second = await answer(transport, [user, answered], answered);
  return { first: first.message, readyToSend, final: second.message, errors: [...first.errors, ...second.errors] };
}

async function completion() {
  const updates = [];
  let finished;
  let error;
  const completion = await sdk.callCompletionApi({
    api: `${baseUrl}/stream/completion${options.query ?? ''}`,
    prompt: options.prompt ?? 'Hello',
    headers,
    body: options.body ?? {},
    streamProtocol: options.streamProtocol ?? 'data',
    setCompletion: (text) => updates.push(text),
    setLoading: () => {},
    setError: (e) => { if (e) error = String(e.message ?? e); },
    setAbortController: () => {},
    onFinish: (prompt, text) => { finished = text; },
    onError: (e) => { error = String(e?.message ?? e); },
    fetch: globalThis.fetch,
  });
  return { completion, finished, updates: updates.length, error };
}

// useObject: fetch, read the text stream, and re-parse the accumulated JSON after each chunk.
async function object() {
  const response = await fetch(`${baseUrl}/stream/object`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(options.body),
  });
  if (!response.ok) return { status: response.status, error: await response.text() };
  let text = '';
  const partials = [];
  let error;
  try {
    for await (const chunk of response.body.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      const { value } = await sdk.parsePartialJson(text);
      if (value !== undefined && !sdk.isDeepEqualData(value, partials.at(-1))) partials.push(value);
    }
  } catch (err) {
    error = String(err?.message ?? err);
  }
  const final = await sdk.parsePartialJson(text);
  return { status: response.status, partials: partials.length, object: final.value, state: final.state, error };
}

const scenarios = { chat, 'chat-tools': chatTools, completion, object };
console.log(JSON.stringify(await scenarios[scenario]()));
