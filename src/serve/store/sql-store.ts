// ConversationStore over SQL: the same queries on PGlite and on a PostgreSQL server (sql.ts). Every
// write is one statement or one transaction, and a method resolves after its commit, so what the
// page was told is stored is stored (on PGlite the commit is flushed to disk, pglite.ts).

import { conversationExamples } from './examples.js';
import { StoreError } from './errors.js';
import type { SqlClient } from './sql.js';
import type {
  ChatExample,
  ConversationRecord,
  ConversationStore,
  ConversationSummary,
  ExportOptions,
  FeedbackRecord,
  MessageRecord,
  NewMessage,
  Rating,
  RatingFilter,
} from './types.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ROLES = ['system', 'user', 'assistant'] as const;
const FILTERS: readonly RatingFilter[] = ['any', 'up', 'down', 'corrected', 'unrated'];

interface ConversationRow {
  id: string;
  title: string;
  model: string;
  system_prompt: string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

interface SummaryRow extends ConversationRow {
  message_count: number;
  up_count: number;
  down_count: number;
  correction_count: number;
}

interface MessageRow {
  id: string;
  conversation_id: string;
  role: MessageRecord['role'];
  content: string;
  model: string | null;
  sampling: unknown;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  timings: unknown;
  finish_reason: string | null;
  created_at: Date | string;
  f_message_id: string | null;
  f_rating: Rating | null;
  f_correction: string | null;
  f_updated_at: Date | string | null;
}

const MESSAGE_COLUMNS = `m.id, m.conversation_id, m.role, m.content, m.model, m.sampling, m.prompt_tokens, m.completion_tokens, m.timings, m.finish_reason, m.created_at,
  f.message_id as f_message_id, f.rating as f_rating, f.correction as f_correction, f.updated_at as f_updated_at`;

const MESSAGES_OF = `select ${MESSAGE_COLUMNS} from messages m left join feedback f on f.message_id = m.id`;

/** The HAVING clause of each listing filter, over the counts of listConversations. */
const FILTER_SQL: Record<RatingFilter, string> = {
  any: 'true',
  up: `count(*) filter (where f.rating = 'up') > 0`,
  down: `count(*) filter (where f.rating = 'down') > 0`,
  corrected: 'count(*) filter (where f.correction is not null) > 0',
  unrated: `count(*) filter (where f.rating is not null or f.correction is not null) = 0`,
};

const iso = (t: Date | string): string => (t instanceof Date ? t : new Date(t)).toISOString();
const json = (v: unknown): Record<string, unknown> | null => (v == null ? null : ((typeof v === 'string' ? JSON.parse(v) : v) as Record<string, unknown>));
/** PostgreSQL text cannot hold U+0000 (a byte-level model can write one); it is stored as U+FFFD rather than losing the message. */
const text = (s: string): string => (s.includes('\0') ? s.replaceAll('\0', '\uFFFD') : s);

function conversationOf(r: ConversationRow): ConversationRecord {
  return { id: r.id, title: r.title, model: r.model, systemPrompt: r.system_prompt, createdAt: iso(r.created_at), updatedAt: iso(r.updated_at) };
}

function messageOf(r: MessageRow): MessageRecord {
  return {
    id: r.id,
    conversationId: r.conversation_id,
    role: r.role,
    content: r.content,
    model: r.model,
    sampling: json(r.sampling),
    promptTokens: r.prompt_tokens,
    completionTokens: r.completion_tokens,
    timings: json(r.timings),
    finishReason: r.finish_reason,
    createdAt: iso(r.created_at),
    feedback: r.f_message_id === null ? null : { messageId: r.f_message_id, rating: r.f_rating, correction: r.f_correction, updatedAt: iso(r.f_updated_at!) },
  };
}

function invalid(message: string): StoreError {
  return new StoreError('invalid', message);
}

function optionalString(v: unknown, name: string): string | null {
  if (v == null) return null;
  if (typeof v !== 'string') throw invalid(`${name} must be a string or null, got ${typeof v}`);
  return text(v);
}

function optionalCount(v: unknown, name: string): number | null {
  if (v == null) return null;
  if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 2 ** 31 - 1) throw invalid(`${name} must be a non-negative integer or null, got ${JSON.stringify(v)}`);
  return v as number;
}

function optionalObject(v: unknown, name: string): string | null {
  if (v == null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid(`${name} must be an object or null, got ${Array.isArray(v) ? 'an array' : typeof v}`);
  return text(JSON.stringify(v));
}

function pageArg(v: number | undefined, name: string): number | null {
  if (v === undefined) return null;
  if (!Number.isInteger(v) || v < 0) throw invalid(`${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return v;
}

/** The conversation store over a SQL client: PGlite or a PostgreSQL server, one schema (migrations.ts). */
export class SqlStore implements ConversationStore {
  private closed = false;
  /** Conversations read per query while exporting: memory stays bounded whatever the database holds. */
  exportPage = 100;

  constructor(private readonly sql: SqlClient) {}

  get kind(): 'pglite' | 'postgres' {
    return this.sql.kind;
  }

  get location(): string {
    return this.sql.location;
  }

  private open(): SqlClient {
    if (this.closed) throw new StoreError('unavailable', `the conversation store (${this.location}) is closed`);
    return this.sql;
  }

  async createConversation(o: { model: string; title?: string; systemPrompt?: string | null }): Promise<ConversationRecord> {
    if (typeof o.model !== 'string' || o.model === '') throw invalid('createConversation: model must be the served model id, a non-empty string');
    const title = optionalString(o.title, 'title') ?? '';
    const systemPrompt = optionalString(o.systemPrompt, 'systemPrompt');
    const [row] = await this.open().query<ConversationRow>('insert into conversations (title, model, system_prompt) values ($1, $2, $3) returning *', [
      title,
      text(o.model),
      systemPrompt,
    ]);
    return conversationOf(row);
  }

  async listConversations(o: { rating?: RatingFilter; limit?: number; offset?: number } = {}): Promise<ConversationSummary[]> {
    const rating = o.rating ?? 'any';
    if (!FILTERS.includes(rating)) throw invalid(`listConversations: rating must be one of ${FILTERS.join(', ')}, got ${JSON.stringify(rating)}`);
    const limit = pageArg(o.limit, 'limit');
    const offset = pageArg(o.offset, 'offset') ?? 0;
    const rows = await this.open().query<SummaryRow>(
      `select c.*, count(m.id)::int as message_count,
         (count(*) filter (where f.rating = 'up'))::int as up_count,
         (count(*) filter (where f.rating = 'down'))::int as down_count,
         (count(*) filter (where f.correction is not null))::int as correction_count
       from conversations c
       left join messages m on m.conversation_id = c.id
       left join feedback f on f.message_id = m.id
       group by c.id
       having ${FILTER_SQL[rating]}
       order by c.updated_at desc, c.id desc
       limit $1 offset $2`,
      [limit, offset],
    );
    return rows.map((r) => ({
      ...conversationOf(r),
      messageCount: Number(r.message_count),
      upCount: Number(r.up_count),
      downCount: Number(r.down_count),
      correctionCount: Number(r.correction_count),
    }));
  }

  async getConversation(id: string): Promise<{ conversation: ConversationRecord; messages: MessageRecord[] } | null> {
    if (typeof id !== 'string' || !UUID.test(id)) return null;
    // One transaction: the messages are those of the conversation as it was read, not of a later write.
    return this.open().transaction(async (tx) => {
      const [c] = await tx.query<ConversationRow>('select * from conversations where id = $1', [id]);
      if (!c) return null;
      const messages = await tx.query<MessageRow>(`${MESSAGES_OF} where m.conversation_id = $1 order by m.seq`, [id]);
      return { conversation: conversationOf(c), messages: messages.map(messageOf) };
    });
  }

  async addMessage(m: NewMessage): Promise<MessageRecord> {
    if (!ROLES.includes(m.role)) throw invalid(`addMessage: role must be one of ${ROLES.join(', ')}, got ${JSON.stringify(m.role)}`);
    if (typeof m.content !== 'string') throw invalid(`addMessage: content must be a string, got ${typeof m.content}`);
    const params = [
      m.conversationId,
      m.role,
      text(m.content),
      optionalString(m.model, 'model'),
      optionalObject(m.sampling, 'sampling'),
      optionalCount(m.promptTokens, 'promptTokens'),
      optionalCount(m.completionTokens, 'completionTokens'),
      optionalObject(m.timings, 'timings'),
      optionalString(m.finishReason, 'finishReason'),
    ];
    const notFound = () => new StoreError('not_found', `addMessage: no conversation with id '${m.conversationId}': it was never created, or it was deleted`);
    if (typeof m.conversationId !== 'string' || !UUID.test(m.conversationId)) throw notFound();
    return this.open().transaction(async (tx) => {
      // The update both checks that the conversation exists and keeps listings most recent first.
      const touched = await tx.query('update conversations set updated_at = now() where id = $1 returning id', [m.conversationId]);
      if (touched.length === 0) throw notFound();
      const [row] = await tx.query<MessageRow>(
        `insert into messages (conversation_id, role, content, model, sampling, prompt_tokens, completion_tokens, timings, finish_reason)
         values ($1, $2, $3, $4, $5::jsonb, $6, $7, $8::jsonb, $9)
         returning *, null as f_message_id, null as f_rating, null as f_correction, null as f_updated_at`,
        params,
      );
      return messageOf(row);
    });
  }

  async setFeedback(messageId: string, f: { rating?: Rating | null; correction?: string | null }): Promise<FeedbackRecord> {
    if (f.rating !== undefined && f.rating !== null && f.rating !== 'up' && f.rating !== 'down') {
      throw invalid(`setFeedback: rating must be "up", "down" or null (to clear it), got ${JSON.stringify(f.rating)}`);
    }
    if (f.rating === undefined && f.correction === undefined) throw invalid('setFeedback: give a rating and/or a correction (null clears one)');
    const correction = optionalString(f.correction, 'correction');
    if (correction !== null && correction.trim() === '') throw invalid('setFeedback: the correction is empty: send the better answer, or null to clear it');
    const notFound = () => new StoreError('not_found', `setFeedback: no message with id '${messageId}'`);
    if (typeof messageId !== 'string' || !UUID.test(messageId)) throw notFound();
    return this.open().transaction(async (tx) => {
      const [m] = await tx.query<{ role: string }>('select role from messages where id = $1', [messageId]);
      if (!m) throw notFound();
      if (m.role !== 'assistant') {
        throw invalid(`setFeedback: message '${messageId}' is a ${m.role} message, not an assistant message: feedback is given on answers only`);
      }
      // A field left undefined keeps the value it has ($2 / $4 say which are given).
      const [row] = await tx.query<{ message_id: string; rating: Rating | null; correction: string | null; updated_at: Date | string }>(
        `insert into feedback (message_id, rating, correction) values ($1, $3, $5)
         on conflict (message_id) do update set
           rating = case when $2::boolean then excluded.rating else feedback.rating end,
           correction = case when $4::boolean then excluded.correction else feedback.correction end,
           updated_at = now()
         returning *`,
        [messageId, f.rating !== undefined, f.rating ?? null, f.correction !== undefined, correction],
      );
      return { messageId: row.message_id, rating: row.rating, correction: row.correction, updatedAt: iso(row.updated_at) };
    });
  }

  async deleteConversation(id: string): Promise<boolean> {
    if (typeof id !== 'string' || !UUID.test(id)) return false;
    // Its messages and their feedback go with it (on delete cascade).
    const rows = await this.open().query('delete from conversations where id = $1 returning id', [id]);
    return rows.length > 0;
  }

  async *exportExamples(o: ExportOptions = {}): AsyncIterable<ChatExample> {
    const minRating = o.minRating ?? 'up';
    if (minRating !== 'up' && minRating !== 'none') throw invalid(`exportExamples: minRating must be "up" or "none", got ${JSON.stringify(minRating)}`);
    // With 'up', only conversations holding a liked or corrected answer can give an example.
    const useful =
      minRating === 'up'
        ? `and exists (select 1 from messages m join feedback f on f.message_id = m.id
             where m.conversation_id = c.id and (f.rating = 'up' or f.correction is not null))`
        : '';
    // Oldest conversation first, a page at a time. The cursor is created_at as text: it keeps the
    // microseconds a JavaScript Date would drop, so no conversation is skipped or read twice.
    let after: { at: string; id: string } | null = null;
    for (;;) {
      const sql = this.open();
      const page: (ConversationRow & { cursor: string })[] = await sql.query<ConversationRow & { cursor: string }>(
        `select c.*, c.created_at::text as cursor from conversations c
         where ($1::text is null or (c.created_at, c.id) > ($1::timestamptz, $2::uuid)) ${useful}
         order by c.created_at, c.id limit $3`,
        [after?.at ?? null, after?.id ?? null, this.exportPage],
      );
      if (page.length === 0) return;
      const rows = await sql.query<MessageRow>(`${MESSAGES_OF} where m.conversation_id = any($1::uuid[]) order by m.seq`, [page.map((c) => c.id)]);
      const byConversation = new Map<string, MessageRecord[]>(page.map((c) => [c.id, []]));
      for (const r of rows) byConversation.get(r.conversation_id)!.push(messageOf(r));
      for (const c of page) yield* conversationExamples(c.system_prompt, byConversation.get(c.id)!, { minRating });
      if (page.length < this.exportPage) return;
      const last = page.at(-1)!;
      after = { at: last.cursor, id: last.id };
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.sql.close();
  }
}
