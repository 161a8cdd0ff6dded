// The AI SDK's generateText and streamText with a tool it executes, through a provider pointed at
// /v1: @ai-sdk/openai's default model (which calls /v1/responses) or @ai-sdk/openai-compatible's
// chat model (/v1/chat/completions). tests/e2e/sdk.py's run_tool_agent runs it:
//   node tool_agent.mjs PROVIDER BASE_URL API_KEY SCENARIO OPTIONS_JSON
// PROVIDER: "openai" | "openai-compatible"; SCENARIO: "generate" | "stream"; OPTIONS: {model, prompt}.
// Prints what the run did, as JSON:
// the final text, each step's tool calls and finish reason, the usage, and the tool's executions.
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateText, stepCountIs, streamText, tool } from 'ai';
import { z } from 'zod';

const [providerName, baseUrl, apiKey, scenario, optionsJson] = process.argv.slice(2);
const options = JSON.parse(optionsJson ?? '{}');
const models = {
  openai: (id) => createOpenAI({ baseURL: `${baseUrl}/v1`, apiKey })(id),
  'openai-compatible': (id) => createOpenAICompatible({ name: 'inference-ui', baseURL: `${baseUrl}/v1`, apiKey, includeUsage: true }).chatModel(id),
};

const executions = [];
const tools = {
  get_weather: tool({
    description: 'The current weather in a city',
    inputSchema: z.object({ city: z.string().describe('The city') }),
    execute: async ({ city }) => {
      executions.push({ city });
      return `22C and sunny in ${city}`;
    },
  }),
};
const call = { model: models[providerName](options.model), tools, stopWhen: stepCountIs(3), prompt: options.prompt, maxRetries: 0 };

let result;
if (scenario === 'generate') {
  result = await generateText(call);
} else if (scenario === 'stream') {
  result = streamText({ ...call, onError: ({ error }) => { throw error; } });
  for await (const _ of result.textStream); // read to the end
} else {
  throw new Error(`unknown scenario ${scenario}`);
}
const steps = await result.steps;
console.log(JSON.stringify({
  text: await result.text,
  steps: steps.map((step) => ({ finishReason: step.finishReason, toolCalls: step.toolCalls.map((c) => ({ name: c.toolName, input: c.input })) })),
  usage: await result.totalUsage,
  executions,
}));
