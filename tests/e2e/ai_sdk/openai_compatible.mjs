// The AI SDK's generateText and streamText with a tool it executes, through
// @ai-sdk/openai-compatible pointed at /v1 (tests/e2e/test_tools_openai.py runs it):
//   node openai_compatible.mjs BASE_URL API_KEY SCENARIO OPTIONS_JSON
// SCENARIO: "generate" | "stream"; OPTIONS: {model, prompt}. Prints what the run did, as JSON:
// the final text, each step's tool calls and finish reason, and the tool's executions.
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateText, stepCountIs, streamText, tool } from 'ai';
import { z } from 'zod';

const [baseUrl, apiKey, scenario, optionsJson] = process.argv.slice(2);
const options = JSON.parse(optionsJson ?? '{}');
const provider = createOpenAICompatible({ name: 'inference-ui', baseURL: `${baseUrl}/v1`, apiKey, includeUsage: true });

const executions = [];
const tools = {
  weather: tool({
    description: 'The current weather in a city',
    inputSchema: z.object({ city: z.string().describe('The city') }),
    execute: async ({ city }) => {
      executions.push({ city });
      return `22C and sunny in ${city}`;
    },
  }),
};
const call = { model: provider.chatModel(options.model), tools, stopWhen: stepCountIs(3), prompt: options.prompt, maxRetries: 0 };

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
  executions,
}));
