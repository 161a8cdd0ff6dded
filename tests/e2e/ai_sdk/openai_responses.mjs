// The AI SDK's generateText and streamText through @ai-sdk/openai's default model, which calls
// /v1/responses, with a tool it executes (tests/e2e/test_responses.py runs it):
//   node openai_responses.mjs BASE_URL API_KEY SCENARIO OPTIONS_JSON
// SCENARIO: "generate" | "stream"; OPTIONS: {model, prompt}. Prints what the run did, as JSON:
// the final text, each step's tool calls and finish reason, the usage, and the tool's executions.
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, stepCountIs, streamText, tool } from 'ai';
import { z } from 'zod';

const [baseUrl, apiKey, scenario, optionsJson] = process.argv.slice(2);
const options = JSON.parse(optionsJson ?? '{}');
const openai = createOpenAI({ baseURL: `${baseUrl}/v1`, apiKey });

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
const call = { model: openai(options.model), tools, stopWhen: stepCountIs(3), prompt: options.prompt, maxRetries: 0 };

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
