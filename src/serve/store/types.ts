// What `nabla serve` keeps of its conversations: conversations, their messages (with the model,
// sampling settings, token counts and timings of each answer), and the feedback people give on
// answers (a rating and/or a corrected answer). One interface over two databases with one schema:
// an embedded PostgreSQL (PGlite) in a data directory, or a PostgreSQL server (`pg`). Every
// method resolves only once its write is committed: what the page was told is stored, is stored.

import type { ChatMessage } from '../../text/chat-template.js';

/** A person's judgement of an answer. */
export type Rating = 'up' | 'down';

/** Which conversations a listing keeps: any, those with a liked / disliked / corrected answer. */
export type RatingFilter = 'any' | 'up' | 'down' | 'corrected' | 'unrated';

export interface ConversationRecord {
  id: string;
  title: string;
  /** The served model's id when the conversation began. */
  model: string;
  systemPrompt: string | null;
  /** ISO 8601 timestamps. */
  createdAt: string;
  updatedAt: string;
}

/** A conversation in a listing, with counts of what it holds. */
export interface ConversationSummary extends ConversationRecord {
  messageCount: number;
  upCount: number;
  downCount: number;
  correctionCount: number;
}

export interface FeedbackRecord {
  messageId: string;
  rating: Rating | null;
  /** A better answer the person wrote; replaces this answer in exported training examples. */
  correction: string | null;
  updatedAt: string;
}

export interface MessageRecord {
  id: string;
  conversationId: string;
  role: 'system' | 'user' | 'assistant';
  content: string;
  /** Assistant messages: the model that wrote it, its sampling settings, counts and timings. */
  model: string | null;
  sampling: Record<string, unknown> | null;
  promptTokens: number | null;
  completionTokens: number | null;
  timings: Record<string, unknown> | null;
  /** 'stop' | 'length' | 'abort' (stopped by the person or the server) for assistant messages. */
  finishReason: string | null;
  createdAt: string;
  feedback: FeedbackRecord | null;
}

export type NewMessage = Omit<MessageRecord, 'id' | 'createdAt' | 'feedback' | 'model' | 'sampling' | 'promptTokens' | 'completionTokens' | 'timings' | 'finishReason'> &
  Partial<Pick<MessageRecord, 'model' | 'sampling' | 'promptTokens' | 'completionTokens' | 'timings' | 'finishReason'>>;

/** One chat training example, OpenAI's fine-tuning line: `{"messages": [...]}`. */
export interface ChatExample {
  messages: ChatMessage[];
}

/** Which answers become training examples. */
export interface ExportOptions {
  /**
   * 'up' (default): liked answers and corrections; 'none': also answers nobody rated. A disliked
   * answer without a correction is never exported; a correction always replaces its answer.
   */
  minRating?: 'up' | 'none';
}

export interface ConversationStore {
  /** 'pglite' (embedded, in a data directory) or 'postgres' (a server). */
  readonly kind: 'pglite' | 'postgres';
  /** The data directory, or the server URL without its password. */
  readonly location: string;
  createConversation(o: { model: string; title?: string; systemPrompt?: string | null }): Promise<ConversationRecord>;
  /** Most recently updated first. */
  listConversations(o?: { rating?: RatingFilter; limit?: number; offset?: number }): Promise<ConversationSummary[]>;
  /** The conversation and its messages in order, or null when there is none with that id. */
  getConversation(id: string): Promise<{ conversation: ConversationRecord; messages: MessageRecord[] } | null>;
  /** Appends a message (and bumps the conversation's updatedAt); rejects when the conversation does not exist. */
  addMessage(m: NewMessage): Promise<MessageRecord>;
  /**
   * Sets an answer's rating and/or correction (a field left undefined keeps its value; null clears
   * it). Rejects when the message does not exist or is not an assistant message.
   */
  setFeedback(messageId: string, f: { rating?: Rating | null; correction?: string | null }): Promise<FeedbackRecord>;
  deleteConversation(id: string): Promise<boolean>;
  /**
   * Training examples: for each exported answer, the conversation up to it (system prompt, the
   * earlier turns with their corrections applied) and the answer (or its correction) last.
   */
  exportExamples(o?: ExportOptions): AsyncIterable<ChatExample>;
  close(): Promise<void>;
}
