// The official openai-node SDK (npm "openai"), unchanged, against the gateway: prints one JSON object of what it saw.
// Usage: node openai_node_check.mjs BASE_URL API_KEY CIRCUIT  (run from a directory whose node_modules has openai)
import OpenAI from "openai";
import { VERSION } from "openai/version";

const [baseURL, apiKey, circuit] = process.argv.slice(2);
const client = new OpenAI({ baseURL: baseURL + "/v1", apiKey, maxRetries: 0 });
const out = { sdk: VERSION };
const question = [{ role: "user", content: "What is the capital of France?" }];

const whole = await client.chat.completions.create({ model: "any", messages: question, max_tokens: 12, temperature: 0 });
out.whole = { text: whole.choices[0].message.content, finish_reason: whole.choices[0].finish_reason };

let streamed = "";
let finish = null;
const stream = await client.chat.completions.create({ model: "any", messages: question, max_tokens: 12, temperature: 0, stream: true });
for await (const chunk of stream) {
  if (chunk.choices.length) {
    streamed += chunk.choices[0].delta.content ?? "";
    finish = chunk.choices[0].finish_reason ?? finish;
  }
}
out.streamed = { text: streamed, finish_reason: finish };

const french = [{ role: "user", content: "Quelle est la capitale de la France ?" }];
// extra fields go in the body as they are: the node SDK's way to send an extension
const steered = await client.chat.completions.create({ model: "any", messages: french, max_tokens: 24, temperature: 0,
  steering: [{ circuit, multiplier: 0.0 }] });
const unsteered = await client.chat.completions.create({ model: "any", messages: french, max_tokens: 24, temperature: 0 });
out.steered = steered.choices[0].message.content;
out.unsteered = unsteered.choices[0].message.content;

const scored = await client.chat.completions.create({ model: "any", messages: question, max_tokens: 6, temperature: 0,
  logprobs: true, top_logprobs: 3 });
out.chat_logprobs = scored.choices[0].logprobs.content.map(c => ({ token: c.token, logprob: c.logprob, bytes: c.bytes,
  top: c.top_logprobs.map(t => ({ token: t.token, logprob: t.logprob })) }));

const completion = await client.completions.create({ model: "any", prompt: "The capital of France is", max_tokens: 4,
  temperature: 0, echo: true, logprobs: 2 });
const lp = completion.choices[0].logprobs;
out.completion = { text: completion.choices[0].text, tokens: lp.tokens, token_logprobs: lp.token_logprobs,
  top_logprobs: lp.top_logprobs, text_offset: lp.text_offset };

try {
  await client.chat.completions.create({ model: "any", messages: question, max_tokens: 100000 });
  out.error = null;
} catch (e) {
  if (!(e instanceof OpenAI.BadRequestError)) throw e;
  out.error = { status: e.status, message: e.message, code: e.code, param: e.param };
}
out.models = (await client.models.list()).data.map(m => m.id);
out.model = (await client.models.retrieve(out.models[0])).id;
console.log(JSON.stringify(out));
