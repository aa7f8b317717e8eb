// A small served model for the server's tests: a random GPT (2 layers, 32 wide) with the byte-level
// BPE tokenizer of the fixtures (1000 tokens; multi-byte characters span several tokens), saved as
// a Hugging Face directory, and a server over it driven by the official `openai` client.
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import OpenAI from 'openai';
import * as nb from '../../src/index.js';
import { GPT } from '../../src/models/gpt.js';
import { loadTokenizerFile } from '../../src/text/tokenizer.js';
import { createServer, type NablaServer, type ServerOptions } from '../../src/serve/app.js';
import { loadServedModel, type LoadedModel } from '../../src/serve/load.js';
import type { EngineOptions } from '../../src/serve/engine.js';
import { tempDir } from '../helpers/tmp.js';

export const BPE_FIXTURE = join(process.cwd(), 'tests/fixtures/text/bpe1000-tokenizer.json');

/**
 * A model directory: random weights U(-scale, scale) from a seeded generator (varied greedy text),
 * EOS = <|endoftext|> (id 0); `files` are written beside (tokenizer_config.json, a chat template).
 */
export async function tinyModelDir(o: { seed?: number; nPositions?: number; files?: Record<string, string> } = {}): Promise<string> {
  const dir = await tempDir('nabla-serve-');
  const seed = o.seed ?? 3;
  nb.manualSeed(seed);
  const model = new GPT({ vocabSize: 1000, nPositions: o.nPositions ?? 128, nEmbd: 32, nLayer: 2, nHead: 2, dropout: 0, bosTokenId: 0, eosTokenId: 0 });
  const gen = new nb.Generator(seed + 100);
  const sd: Record<string, nb.Tensor> = {};
  for (const [k, p] of model.namedParameters()) {
    const gain = /ln_.*weight$/.test(k);
    sd[k] = nb.uniform([...p.shape], gain ? 0.8 : -0.3, gain ? 1.2 : 0.3, { generator: gen, dtype: p.dtype });
  }
  model.loadStateDict(sd, { strict: false });
  for (const t of Object.values(sd)) t.dispose();
  await model.savePretrained(dir, { tokenizer: await loadTokenizerFile(BPE_FIXTURE) });
  for (const t of Object.values(model.stateDict())) t.dispose();
  for (const [name, text] of Object.entries(o.files ?? {})) await writeFile(join(dir, name), text);
  return dir;
}

export interface TestServer {
  server: NablaServer;
  served: LoadedModel;
  url: string;
  client: OpenAI;
  close(): Promise<void>;
}

/** A server on a free port over the model in `dir`. */
export async function startServer(dir: string, o: EngineOptions & Partial<ServerOptions> = {}): Promise<TestServer> {
  const served = await loadServedModel(dir, { parallel: o.parallel ?? 4, ctx: o.ctx, maxQueue: o.maxQueue ?? 64 });
  const server = await createServer({ name: o.name ?? 'tiny', apiKey: o.apiKey, bodyLimit: o.bodyLimit, model: served, processMetrics: false });
  const url = await server.listen({ port: 0 });
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: o.apiKey ?? 'none', maxRetries: 0 });
  return { server, served, url, client, close: () => server.close(1000) };
}

/** POST a raw body (any text, any content type) and read the JSON answer. */
export async function post(url: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const r = await fetch(url, { method: 'POST', body, headers });
  const text = await r.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return {
    status: r.status,
    headers: r.headers,
    json: json as { error?: { message: string; type: string; param: string | null; code: string | null } } & Record<string, unknown>,
    text,
  };
}
