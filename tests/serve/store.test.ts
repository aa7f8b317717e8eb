// The conversation store (src/serve/store): the whole ConversationStore interface, run once on the
// embedded database (PGlite in a temporary data directory) and once on a real PostgreSQL server
// (a throwaway cluster, postgres-server.ts; skipped, saying why, where none can be started).
// Beside the interface: what a second process sees (a killed writer loses no acknowledged message;
// PGlite's directory is refused to a second process; migrations run once when many open a server
// at once) and the errors of opening (a bad URL, an unreachable server, a directory that is not a
// PGlite one).
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MIGRATIONS, openStore, StoreError, type ConversationStore, type MessageRecord, type NewMessage } from '../../src/serve/store/index.js';
import { migrate } from '../../src/serve/store/migrations.js';
import { openPglite } from '../../src/serve/store/pglite.js';
import { tempDir } from '../helpers/tmp.js';
import { postgresUnavailable, startPostgres, type PostgresServer } from './postgres-server.js';

const CHILD = join(process.cwd(), 'tests/serve/fixtures/store-child.mjs');
const BUILT = join(process.cwd(), 'dist/src/serve/store/index.js');

/** The StoreError a promise rejects with (failing the test when it resolves or rejects with something else). */
async function refusal(p: Promise<unknown>): Promise<StoreError> {
  const e = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(e).toBeInstanceOf(StoreError);
  return e as StoreError;
}

/** Runs the child script; `done` resolves to its stdout lines once it exits, or once `until` says to stop and it is SIGKILLed. */
function runChild(args: string[], until: (lines: string[]) => boolean = () => false) {
  if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run npm run build (npm test does)`);
  const child = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let stderr = '';
  let killed = false;
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.on('data', (d) => {
    out += d;
    // Killed as soon as the line is read: the store has nothing more to flush than it had when it printed.
    if (!killed && until(out.split('\n').slice(0, -1))) {
      killed = true;
      child.kill('SIGKILL');
    }
  });
  const done = new Promise<{ lines: string[]; code: number | null; signal: string | null; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ lines: out.split('\n').filter(Boolean), code, signal, stderr }));
  });
  return { child, done };
}

const answer = (conversationId: string, content: string, more: Partial<NewMessage> = {}): NewMessage => ({
  conversationId,
  role: 'assistant',
  content,
  model: 'tiny',
  finishReason: 'stop',
  ...more,
});

/** What a database is, to the shared suite: how to open it, and what the child script is given. */
interface Backend {
  open(): Promise<ConversationStore>;
  /** [data|db, location] for the child script. */
  childArgs: [string, string];
  /** Checks what this process can do while another (pid) writes to the database. */
  alongside(pid: number): Promise<void>;
}

/** The interface, on one database. The tests share one store and leave it empty. */
function conformance(kind: 'pglite' | 'postgres', backend: () => Backend) {
  let store: ConversationStore;
  beforeAll(async () => {
    store = await backend().open();
  });
  afterAll(async () => {
    await store?.close();
  });
  afterEach(async () => {
    for (const c of await store.listConversations()) await store.deleteConversation(c.id);
  });

  it('keeps a conversation and its messages, with the model, sampling, counts and timings of each answer', async () => {
    expect(store.kind).toBe(kind);
    const c = await store.createConversation({ model: 'tiny', title: 'Order 1042', systemPrompt: 'You answer for the shop.' });
    expect(c).toMatchObject({ title: 'Order 1042', model: 'tiny', systemPrompt: 'You answer for the shop.' });
    expect(c.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(new Date(c.createdAt).toISOString()).toBe(c.createdAt);
    const q = await store.addMessage({ conversationId: c.id, role: 'user', content: 'Where is my order?' });
    expect(q).toMatchObject({ role: 'user', content: 'Where is my order?', model: null, sampling: null, promptTokens: null, timings: null, finishReason: null, feedback: null });
    const a = await store.addMessage(
      answer(c.id, 'It shipped on Monday.\0', {
        sampling: { temperature: 0.7, top_p: 0.9, seed: 3 },
        promptTokens: 12,
        completionTokens: 6,
        timings: { prompt_ms: 4.5, predicted_ms: 30.25 },
      }),
    );
    expect(a.content).toBe('It shipped on Monday.\uFFFD'); // PostgreSQL text holds no U+0000
    const got = await store.getConversation(c.id);
    expect(got!.conversation.id).toBe(c.id);
    expect(got!.conversation.updatedAt >= c.updatedAt).toBe(true);
    expect(got!.messages).toEqual([q, a]);
    expect(got!.messages[1]).toMatchObject({
      model: 'tiny',
      sampling: { temperature: 0.7, top_p: 0.9, seed: 3 },
      promptTokens: 12,
      completionTokens: 6,
      timings: { prompt_ms: 4.5, predicted_ms: 30.25 },
      finishReason: 'stop',
    });
    expect(await store.getConversation('00000000-0000-4000-8000-000000000000')).toBeNull();
    expect(await store.getConversation('not-a-uuid')).toBeNull();
  });

  it('lists conversations most recently updated first, with their counts, filtered by rating, a page at a time', async () => {
    const ids: Record<string, string> = {};
    const messages: Record<string, MessageRecord> = {};
    for (const name of ['liked', 'disliked', 'corrected', 'unrated', 'empty']) {
      ids[name] = (await store.createConversation({ model: 'tiny', title: name })).id;
      if (name === 'empty') continue;
      await store.addMessage({ conversationId: ids[name], role: 'user', content: `question ${name}` });
      messages[name] = await store.addMessage(answer(ids[name], `answer ${name}`));
    }
    await store.setFeedback(messages.liked.id, { rating: 'up' });
    await store.setFeedback(messages.disliked.id, { rating: 'down' });
    await store.setFeedback(messages.corrected.id, { correction: 'a better answer' });
    await store.addMessage({ conversationId: ids.liked, role: 'user', content: 'one more' }); // liked is now the most recent
    const titles = async (o?: Parameters<ConversationStore['listConversations']>[0]) => (await store.listConversations(o)).map((c) => c.title);
    expect(await titles()).toEqual(['liked', 'empty', 'unrated', 'corrected', 'disliked']);
    expect(await titles({ rating: 'any', limit: 2, offset: 1 })).toEqual(['empty', 'unrated']);
    expect(await titles({ rating: 'up' })).toEqual(['liked']);
    expect(await titles({ rating: 'down' })).toEqual(['disliked']);
    expect(await titles({ rating: 'corrected' })).toEqual(['corrected']);
    expect(await titles({ rating: 'unrated' })).toEqual(['empty', 'unrated']);
    const counts = Object.fromEntries((await store.listConversations()).map((c) => [c.title, [c.messageCount, c.upCount, c.downCount, c.correctionCount]]));
    expect(counts).toEqual({ liked: [3, 1, 0, 0], disliked: [2, 0, 1, 0], corrected: [2, 0, 0, 1], unrated: [2, 0, 0, 0], empty: [0, 0, 0, 0] });
    expect((await refusal(store.listConversations({ rating: 'bad' as any }))).code).toBe('invalid');
    expect((await refusal(store.listConversations({ limit: -1 }))).message).toMatch(/limit must be a non-negative integer/);
  });

  it('sets a rating and a correction, keeps a field left undefined and clears one set to null', async () => {
    const c = await store.createConversation({ model: 'tiny' });
    expect(c.title).toBe('');
    await store.addMessage({ conversationId: c.id, role: 'user', content: 'Do you ship abroad?' });
    const a = await store.addMessage(answer(c.id, 'No.'));
    const f1 = await store.setFeedback(a.id, { rating: 'down' });
    expect(f1).toMatchObject({ messageId: a.id, rating: 'down', correction: null });
    const f2 = await store.setFeedback(a.id, { correction: 'Yes, to 30 countries.' });
    expect(f2).toMatchObject({ rating: 'down', correction: 'Yes, to 30 countries.' });
    expect(f2.updatedAt >= f1.updatedAt).toBe(true);
    expect(await store.setFeedback(a.id, { rating: null })).toMatchObject({ rating: null, correction: 'Yes, to 30 countries.' });
    expect(await store.setFeedback(a.id, { rating: 'up', correction: null })).toMatchObject({ rating: 'up', correction: null });
    const got = await store.getConversation(c.id);
    expect(got!.messages[1].feedback).toMatchObject({ messageId: a.id, rating: 'up', correction: null });
    expect(got!.messages[0].feedback).toBeNull();
  });

  it('takes concurrent writes and reads (requests of one server arrive together)', async () => {
    const c = await store.createConversation({ model: 'tiny' });
    const writes = Array.from({ length: 12 }, (_, i) => store.addMessage({ conversationId: c.id, role: i % 2 ? 'assistant' : 'user', content: `m${i}` }));
    const others = Array.from({ length: 4 }, (_, i) => store.createConversation({ model: 'tiny', title: `other ${i}` }));
    const reads = Array.from({ length: 4 }, () => store.getConversation(c.id));
    const [written] = await Promise.all([Promise.all(writes), Promise.all(others), Promise.all(reads)]);
    const stored = (await store.getConversation(c.id))!.messages;
    expect(stored.map((m) => m.id).sort()).toEqual(written.map((m) => m.id).sort());
    expect((await store.listConversations()).length).toBe(5);
  });

  it('refuses feedback on a question, on a message that does not exist, and bad values', async () => {
    const c = await store.createConversation({ model: 'tiny' });
    const q = await store.addMessage({ conversationId: c.id, role: 'user', content: 'Hello' });
    const a = await store.addMessage(answer(c.id, 'Hi'));
    const onQuestion = await refusal(store.setFeedback(q.id, { rating: 'up' }));
    expect(onQuestion.code).toBe('invalid');
    expect(onQuestion.message).toMatch(/is a user message, not an assistant message/);
    const unknown = await refusal(store.setFeedback('00000000-0000-4000-8000-000000000000', { rating: 'up' }));
    expect(unknown.code).toBe('not_found');
    expect(unknown.message).toMatch(/no message with id/);
    expect((await refusal(store.setFeedback('nope', { rating: 'up' }))).code).toBe('not_found');
    expect((await refusal(store.setFeedback(a.id, { rating: 'meh' as any }))).message).toMatch(/rating must be "up", "down" or null/);
    expect((await refusal(store.setFeedback(a.id, {}))).message).toMatch(/give a rating and\/or a correction/);
    expect((await refusal(store.setFeedback(a.id, { correction: '  ' }))).message).toMatch(/correction is empty/);
    expect((await store.getConversation(c.id))!.messages[1].feedback).toBeNull(); // nothing was written
  });

  it('refuses a message for a conversation that does not exist, and messages with bad fields', async () => {
    const gone = await refusal(store.addMessage({ conversationId: '00000000-0000-4000-8000-000000000000', role: 'user', content: 'x' }));
    expect(gone.code).toBe('not_found');
    expect(gone.message).toMatch(/no conversation with id/);
    const c = await store.createConversation({ model: 'tiny' });
    expect((await refusal(store.addMessage({ conversationId: c.id, role: 'tool' as any, content: 'x' }))).message).toMatch(/role must be one of system, user, assistant/);
    expect((await refusal(store.addMessage({ conversationId: c.id, role: 'user', content: 5 as any }))).message).toMatch(/content must be a string/);
    expect((await refusal(store.addMessage(answer(c.id, 'x', { promptTokens: -1 })))).message).toMatch(/promptTokens must be a non-negative integer/);
    expect((await refusal(store.addMessage(answer(c.id, 'x', { sampling: [1] as any })))).message).toMatch(/sampling must be an object/);
    expect((await refusal(store.createConversation({ model: '' }))).code).toBe('invalid');
    expect((await store.getConversation(c.id))!.messages).toEqual([]);
  });

  it('exports liked answers and corrections, each correction replacing its answer in the later histories too', async () => {
    const sys = { role: 'system', content: "You answer for the shop's customers." };
    const c = await store.createConversation({ model: 'tiny', systemPrompt: sys.content });
    const turn = async (q: string, a: string, more: Partial<NewMessage> = {}) => {
      await store.addMessage({ conversationId: c.id, role: 'user', content: q });
      return store.addMessage(answer(c.id, a, more));
    };
    const a1 = await turn('Where is my order?', 'It shipped.');
    const a2 = await turn('When will it arrive?', 'Tomorrow.');
    const a3 = await turn('Can I return it?', 'No.');
    await turn('Thanks.', 'You are welcome.');
    const a5 = await turn('Bye.', 'Goodbye!');
    await turn('And the invoice?', 'The invoice is', { finishReason: 'abort' }); // stopped: never exported unrated
    await store.setFeedback(a1.id, { rating: 'up' });
    await store.setFeedback(a2.id, { rating: 'down', correction: 'In 3 to 5 working days.' });
    await store.setFeedback(a3.id, { rating: 'down' }); // disliked, nobody wrote better: never a target
    await store.setFeedback(a5.id, { rating: 'up' });
    // A second conversation: no system prompt until one is set mid-way (a system message), one liked answer after it.
    const d = await store.createConversation({ model: 'tiny' });
    await store.addMessage({ conversationId: d.id, role: 'user', content: 'Hi' });
    const b1 = await store.addMessage(answer(d.id, 'Hello!'));
    await store.addMessage({ conversationId: d.id, role: 'system', content: 'Be brief.' });
    await store.addMessage({ conversationId: d.id, role: 'user', content: 'Opening hours?' });
    const b2 = await store.addMessage(answer(d.id, '9 to 5.'));
    await store.setFeedback(b1.id, { correction: 'Hello! How can I help?' });
    await store.setFeedback(b2.id, { rating: 'up' });

    const u = (content: string) => ({ role: 'user', content });
    const as = (content: string) => ({ role: 'assistant', content });
    const h1 = [sys, u('Where is my order?'), as('It shipped.')];
    const h2 = [...h1, u('When will it arrive?'), as('In 3 to 5 working days.')];
    const h4 = [...h2, u('Can I return it?'), as('No.'), u('Thanks.'), as('You are welcome.')];
    const h5 = [...h4, u('Bye.'), as('Goodbye!')];
    const second1 = [u('Hi'), as('Hello! How can I help?')];
    const second2 = [{ role: 'system', content: 'Be brief.' }, ...second1, u('Opening hours?'), as('9 to 5.')];
    const all = async (o?: Parameters<ConversationStore['exportExamples']>[0]) => {
      const out = [];
      for await (const e of store.exportExamples(o)) out.push(e.messages);
      return out;
    };
    expect(await all()).toEqual([h1, h2, h5, second1, second2]);
    expect(await all({ minRating: 'up' })).toEqual([h1, h2, h5, second1, second2]);
    // 'none' adds the unrated answer, not the stopped one nor the disliked one.
    expect(await all({ minRating: 'none' })).toEqual([h1, h2, h4, h5, second1, second2]);
    await refusal(all({ minRating: 'down' as any }));
  });

  it('exports every conversation, oldest first, when they span several pages', async () => {
    const titles: string[] = [];
    for (let i = 0; i < 5; i++) {
      const c = await store.createConversation({ model: 'tiny', title: `c${i}` });
      await store.addMessage({ conversationId: c.id, role: 'user', content: `q${i}` });
      const a = await store.addMessage(answer(c.id, `a${i}`));
      if (i !== 2) await store.setFeedback(a.id, { rating: 'up' });
      titles.push(`a${i}`);
    }
    await store.createConversation({ model: 'tiny', title: 'no messages' });
    (store as any).exportPage = 2;
    try {
      const targets: string[] = [];
      for await (const e of store.exportExamples()) targets.push(e.messages.at(-1)!.content);
      expect(targets).toEqual(['a0', 'a1', 'a3', 'a4']);
      const none: string[] = [];
      for await (const e of store.exportExamples({ minRating: 'none' })) none.push(e.messages.at(-1)!.content);
      expect(none).toEqual(titles);
    } finally {
      (store as any).exportPage = 100;
    }
  });

  it('deletes a conversation with its messages and their feedback', async () => {
    const keep = await store.createConversation({ model: 'tiny', title: 'keep' });
    const c = await store.createConversation({ model: 'tiny', title: 'delete me' });
    await store.addMessage({ conversationId: c.id, role: 'user', content: 'q' });
    const a = await store.addMessage(answer(c.id, 'a'));
    await store.setFeedback(a.id, { rating: 'up', correction: 'better' });
    expect(await store.deleteConversation(c.id)).toBe(true);
    expect(await store.deleteConversation(c.id)).toBe(false);
    expect(await store.deleteConversation('not-a-uuid')).toBe(false);
    expect(await store.getConversation(c.id)).toBeNull();
    expect((await refusal(store.setFeedback(a.id, { rating: 'down' }))).code).toBe('not_found'); // the message went with it
    expect((await refusal(store.addMessage({ conversationId: c.id, role: 'user', content: 'q' }))).code).toBe('not_found');
    expect((await store.listConversations()).map((x) => x.id)).toEqual([keep.id]);
    const examples = [];
    for await (const e of store.exportExamples({ minRating: 'none' })) examples.push(e);
    expect(examples).toEqual([]);
  });

  it('loses no message acknowledged to a process killed with SIGKILL right after', async () => {
    const c = await store.createConversation({ model: 'tiny', title: 'durable' });
    // PGlite's directory is one process's at a time: the child gets it while the test's store is closed.
    if (kind === 'pglite') await store.close();
    const isAck = (l: string) => l.startsWith('acked ');
    let writing!: () => void;
    const acking = new Promise<void>((r) => (writing = r));
    let mayKill = false;
    const run = runChild(['write', ...backend().childArgs, c.id], (lines) => {
      const acks = lines.filter(isAck).length;
      if (acks > 0) writing();
      return mayKill && acks >= 3;
    });
    await Promise.race([acking, run.done.then((r) => Promise.reject(new Error(`the writer exited before its first message: ${r.stderr}`)))]);
    await backend().alongside(run.child.pid!); // what another process can do while it writes
    mayKill = true; // killed as the next acknowledgement is read
    const r = await run.done;
    expect(r.signal, r.stderr).toBe('SIGKILL');
    const acked = r.lines.filter(isAck).map((l) => l.slice(6));
    expect(acked.length).toBeGreaterThanOrEqual(3);
    if (kind === 'pglite') {
      expect(readdirSync(backend().childArgs[1])).toContain('nabla.lock'); // the killed writer's
      store = await backend().open(); // takes it over
    }
    const stored = (await store.getConversation(c.id))!.messages.map((m) => m.id);
    expect(stored.slice(0, acked.length)).toEqual(acked);
  });

  it('finds everything again after closing and reopening, and refuses work once closed', async () => {
    const c = await store.createConversation({ model: 'tiny', title: 'kept', systemPrompt: 'sys' });
    await store.addMessage({ conversationId: c.id, role: 'user', content: 'q' });
    const a = await store.addMessage(answer(c.id, 'a', { timings: { predicted_ms: 1 } }));
    await store.setFeedback(a.id, { rating: 'up' });
    const before = await store.getConversation(c.id);
    await store.close();
    await store.close(); // twice is fine
    expect((await refusal(store.listConversations())).message).toMatch(/is closed/);
    store = await backend().open();
    expect(await store.getConversation(c.id)).toEqual(before);
  });
}

describe('conversation store on PGlite (a data directory)', () => {
  let dir = '';
  beforeAll(async () => {
    dir = join(await tempDir('nabla-store-'), 'data'); // missing: openStore creates it
  });
  describe('the interface', () =>
    conformance('pglite', () => ({
      open: () => openStore({ data: dir }),
      childArgs: ['data', dir],
      async alongside(pid) {
        // PGlite would let this process open the directory too and both would write its files.
        const e = await refusal(openStore({ data: dir }));
        expect(e.code).toBe('unavailable');
        expect(e.message).toMatch(new RegExp(`in use by another process \\(pid ${pid}\\).*does not lock its directory.*--db postgres://`));
      },
    })));

  it('refuses a second opener in this process; an opened directory has every migration, and migrating again applies none', async () => {
    const client = await openPglite(dir);
    try {
      const again = await refusal(openStore({ data: dir }));
      expect(again.code).toBe('unavailable');
      expect(again.message).toMatch(/already open in this process/);
      expect(await migrate(client)).toEqual([]);
      const rows = await client.query<{ version: number }>('select version from nabla_migrations order by version');
      expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
      // Commits are flushed to disk: PGlite's default (fsync off) is overridden.
      const settings = await client.query<{ name: string; setting: string }>("select name, setting from pg_settings where name in ('fsync', 'wal_sync_method') order by name");
      expect(settings).toEqual([
        { name: 'fsync', setting: 'on' },
        { name: 'wal_sync_method', setting: 'fsync' },
      ]);
    } finally {
      await client.close();
    }
    expect(readdirSync(dir)).not.toContain('nabla.lock'); // given back on close
  });

  it('refuses a directory that is not a PGlite one, and a file', async () => {
    const other = await tempDir('nabla-store-other-');
    writeFileSync(join(other, 'notes.txt'), 'not a database');
    const e = await refusal(openStore({ data: other }));
    expect(e.code).toBe('invalid');
    expect(e.message).toMatch(/is not a PGlite data directory \(it holds 1 other file\(s\) and no PG_VERSION\)/);
    const file = await refusal(openStore({ data: join(other, 'notes.txt') }));
    expect(file.message).toMatch(/is a file; give a directory/);
    const broken = join(other, 'broken');
    mkdirSync(join(broken, 'base'), { recursive: true });
    writeFileSync(join(broken, 'PG_VERSION'), '19\n');
    const half = await refusal(openStore({ data: broken }));
    expect(half.code).toBe('unavailable');
    expect(half.message).toMatch(/cannot open its database \(PostgreSQL 19 files\) .* with PGlite/);
    expect(readdirSync(broken)).not.toContain('nabla.lock'); // a failed open gives the lock back
    expect((await refusal(openStore({}))).message).toMatch(/exactly one of data .* or db/);
    expect((await refusal(openStore({ data: dir, db: 'postgres://x' }))).code).toBe('invalid');
  });
});

describe('conversation store: errors of a server URL', () => {
  it('refuses a URL that is not a postgres:// one, without showing its password', async () => {
    const e = await refusal(openStore({ db: 'mysql://me:s3cret@host/db' }));
    expect(e.code).toBe('invalid');
    expect(e.message).toMatch(/must begin with postgres:\/\/ or postgresql:\/\//);
    expect(e.message).not.toContain('s3cret');
    expect((await refusal(openStore({ db: 'localhost:5432' }))).message).toMatch(/postgres:\/\//);
    expect((await refusal(openStore({ db: 'not a url' }))).message).toMatch(/is not a URL/);
  });

  it('says when nothing listens at the address', async () => {
    const { createServer } = await import('node:net');
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as { port: number }).port;
    await new Promise((r) => s.close(r)); // a port nothing listens on
    const e = await refusal(openStore({ db: `postgres://me:s3cret@127.0.0.1:${port}/shop` }));
    expect(e.code).toBe('unavailable');
    expect(e.message).toMatch(new RegExp(`cannot reach the PostgreSQL server at 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED.*is it running`));
    expect(e.message).not.toContain('s3cret');
  });
});

const unavailable = postgresUnavailable();
if (unavailable) {
  describe('conversation store on a PostgreSQL server', () => {
    it.skip(`skipped: ${unavailable}`, () => {});
  });
} else {
  describe('conversation store on a PostgreSQL server', () => {
    let server: PostgresServer;
    let url = '';
    beforeAll(async () => {
      server = await startPostgres();
      url = await server.createDatabase('suite');
    });
    afterAll(async () => {
      await server?.stop();
    });
    describe('the interface', () =>
      conformance('postgres', () => ({
        open: () => openStore({ db: url }),
        childArgs: ['db', url],
        async alongside() {
          // Several processes share one server: this one writes too.
          const other = await openStore({ db: url });
          try {
            const c = await other.createConversation({ model: 'tiny', title: 'alongside' });
            await other.addMessage({ conversationId: c.id, role: 'user', content: 'written while another process writes' });
            expect((await other.getConversation(c.id))!.messages).toHaveLength(1);
          } finally {
            await other.close();
          }
        },
      })));

    it('gives its location without the password', async () => {
      const store = await openStore({ db: url.replace('nabla@', 'nabla:pw@') });
      try {
        expect(store.location).toBe(`postgres://nabla@127.0.0.1:${server.port}/suite`);
      } finally {
        await store.close();
      }
    });

    it('applies each migration once when several pools and processes open a new database at once', async () => {
      const fresh = await server.createDatabase('racing');
      const [children, ...stores] = await Promise.all([
        Promise.all([runChild(['open', 'db', fresh]).done, runChild(['open', 'db', fresh]).done]),
        openStore({ db: fresh }),
        openStore({ db: fresh }),
        openStore({ db: fresh }),
      ]);
      for (const c of children) expect(c.lines, c.stderr).toEqual(['closed']);
      await Promise.all(stores.map((s) => s.close()));
      const rows = await server.query<{ version: number }>('racing', 'select version from nabla_migrations order by version');
      expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
      const tables = await server.query<{ n: number }>('racing', "select count(*)::int as n from pg_tables where tablename in ('conversations', 'messages', 'feedback')");
      expect(tables[0].n).toBe(3);
    });

    it('says when the database does not exist and when the user is refused', async () => {
      const missing = await refusal(openStore({ db: server.url('nosuchdb') }));
      expect(missing.message).toMatch(/has no database 'nosuchdb': create it first/);
      const user = await refusal(openStore({ db: `postgres://nobody_here@127.0.0.1:${server.port}/suite` }));
      expect(user.message).toMatch(/refused the login of user 'nobody_here'/);
    });

    it("refuses a PostgreSQL server's data directory as a PGlite one, saying which version wrote it", async () => {
      // A copy: PGlite must not touch the running server's files.
      const copy = join(await tempDir('nabla-store-pg15-'), 'data');
      cpSync(server.dataDir, copy, { recursive: true, filter: (src) => !src.endsWith('postmaster.pid') });
      const e = await refusal(openStore({ data: copy }));
      expect(e.code).toBe('unavailable');
      expect(e.message).toMatch(/cannot open its database \(PostgreSQL \d+ files\).*PostgreSQL said: FATAL: database files are incompatible with server/);
    });
  });
}
