// The JSON schemas of the request bodies (validated by Fastify before a handler runs) and their
// TypeScript types. They follow OpenAI's API reference for /v1/completions, /v1/chat/completions
// and /v1/embeddings, and llama-server's /tokenize and /detokenize. Unknown fields are allowed
// (OpenAI clients send `user`, `metadata`, `store`, ...); fields we know but cannot honour (n > 1,
// logprobs, tools) are checked in the handlers, with a message saying what to send instead.

/** The sampling and length fields shared by completions and chat completions. */
export interface SamplingBody {
  model?: string;
  max_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  top_k?: number | null;
  repetition_penalty?: number | null;
  frequency_penalty?: number | null;
  presence_penalty?: number | null;
  stop?: string | string[] | null;
  seed?: number | null;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean | null } | null;
  n?: number | null;
  logprobs?: boolean | number | null;
  logit_bias?: Record<string, number> | null;
  user?: string;
}

export interface CompletionBody extends SamplingBody {
  prompt: string | string[] | number[] | number[][];
  echo?: boolean | null;
  best_of?: number | null;
  suffix?: string | null;
}

/** A part of a message's content: text (images and audio are refused). */
export interface ContentPart {
  type: string;
  text?: string;
}

export interface ChatMessageBody {
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool';
  content?: string | ContentPart[] | null;
  name?: string;
}

export interface ChatBody extends SamplingBody {
  messages: ChatMessageBody[];
  max_completion_tokens?: number | null;
  top_logprobs?: number | null;
  tools?: unknown[] | null;
  tool_choice?: unknown;
  response_format?: { type: string } | null;
}

export interface EmbeddingsBody {
  input: string | string[] | number[] | number[][];
  model?: string;
  encoding_format?: 'float' | 'base64';
  dimensions?: number;
  user?: string;
}

export interface TokenizeBody {
  content: string;
  add_special?: boolean;
  with_pieces?: boolean;
}

export interface DetokenizeBody {
  tokens: number[];
}

const nullable = (schema: Record<string, unknown>) => ({ anyOf: [schema, { type: 'null' }] });
const tokenId = { type: 'integer', minimum: 0 };
const tokenIds = { type: 'array', items: tokenId, minItems: 1 };

/** Fields of both generation endpoints. Bounds as OpenAI's (temperature 0-2, top_p 0-1, stop: up to 4). */
const sampling = {
  model: { type: 'string' },
  max_tokens: nullable({ type: 'integer', minimum: 0 }),
  temperature: nullable({ type: 'number', minimum: 0, maximum: 2 }),
  top_p: nullable({ type: 'number', exclusiveMinimum: 0, maximum: 1 }),
  top_k: nullable({ type: 'integer', minimum: -1 }),
  repetition_penalty: nullable({ type: 'number', exclusiveMinimum: 0 }),
  frequency_penalty: nullable({ type: 'number', minimum: -2, maximum: 2 }),
  presence_penalty: nullable({ type: 'number', minimum: -2, maximum: 2 }),
  stop: nullable({
    anyOf: [
      { type: 'string', minLength: 1 },
      { type: 'array', items: { type: 'string', minLength: 1 }, maxItems: 4 },
    ],
  }),
  seed: nullable({ type: 'integer' }),
  stream: nullable({ type: 'boolean' }),
  stream_options: nullable({ type: 'object', properties: { include_usage: nullable({ type: 'boolean' }) } }),
  n: nullable({ type: 'integer', minimum: 1 }),
  logprobs: nullable({ anyOf: [{ type: 'boolean' }, { type: 'integer', minimum: 0 }] }),
  logit_bias: nullable({ type: 'object', additionalProperties: { type: 'number' } }),
  user: { type: 'string' },
} as const;

export const completionSchema = {
  type: 'object',
  required: ['prompt'],
  properties: {
    ...sampling,
    prompt: {
      anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1 }, tokenIds, { type: 'array', items: tokenIds, minItems: 1 }],
    },
    echo: nullable({ type: 'boolean' }),
    best_of: nullable({ type: 'integer', minimum: 1 }),
    suffix: nullable({ type: 'string' }),
  },
} as const;

export const chatSchema = {
  type: 'object',
  required: ['messages'],
  properties: {
    ...sampling,
    messages: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['role'],
        properties: {
          role: { type: 'string', enum: ['system', 'developer', 'user', 'assistant', 'tool'] },
          content: nullable({
            anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'object', required: ['type'], properties: { type: { type: 'string' }, text: { type: 'string' } } } }],
          }),
          name: { type: 'string' },
        },
      },
    },
    max_completion_tokens: nullable({ type: 'integer', minimum: 0 }),
    top_logprobs: nullable({ type: 'integer', minimum: 0 }),
    tools: nullable({ type: 'array' }),
    response_format: nullable({ type: 'object', required: ['type'], properties: { type: { type: 'string' } } }),
  },
} as const;

export const embeddingsSchema = {
  type: 'object',
  required: ['input'],
  properties: {
    input: {
      anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1 }, tokenIds, { type: 'array', items: tokenIds, minItems: 1 }],
    },
    model: { type: 'string' },
    encoding_format: { type: 'string', enum: ['float', 'base64'] },
    dimensions: { type: 'integer', minimum: 1 },
    user: { type: 'string' },
  },
} as const;

export const tokenizeSchema = {
  type: 'object',
  required: ['content'],
  properties: { content: { type: 'string' }, add_special: { type: 'boolean' }, with_pieces: { type: 'boolean' } },
} as const;

export const detokenizeSchema = {
  type: 'object',
  required: ['tokens'],
  properties: { tokens: { type: 'array', items: tokenId } },
} as const;

/** What each field of a request must be, in words: the end of a validation error's message. */
export const FIELD_HINTS: Record<string, string> = {
  prompt: 'a string, a list of token ids, or a list holding one of these',
  messages: 'a non-empty list of {"role": "system" | "user" | "assistant", "content": "..."} objects',
  role: '"system", "developer", "user", "assistant" or "tool"',
  content: 'a string, or a list of {"type": "text", "text": "..."} parts',
  input: 'a string, a list of strings, a list of token ids, or a list of lists of token ids',
  stop: 'a non-empty string or a list of at most 4 non-empty strings',
  max_tokens: 'an integer >= 0',
  max_completion_tokens: 'an integer >= 0',
  temperature: 'a number from 0 (greedy) to 2',
  top_p: 'a number above 0 and at most 1',
  top_k: 'an integer >= 0 (0 or -1: no limit)',
  repetition_penalty: 'a number above 0 (1: none)',
  seed: 'an integer',
  stream: 'true or false',
  stream_options: 'an object such as {"include_usage": true}',
  n: 'the integer 1',
  logprobs: 'false or 0 (log-probabilities are not returned)',
  encoding_format: '"float" or "base64"',
  tokens: 'a list of token ids (integers >= 0)',
  logit_bias: 'an object of token id → bias',
  // The conversation routes (chat-routes.ts).
  title: 'a string of at most 200 characters',
  system_prompt: 'a string (or null: none)',
  rating: '"up", "down", or null to clear it',
  correction: 'a string (a better answer), or null to clear it',
};
