// Training examples from one conversation and its feedback (the rule of ExportOptions): each answer
// that is exported becomes one example, the conversation up to it and the answer last. What a
// person corrected is replaced by the correction everywhere, in the history of later examples too,
// so a model is never taught to continue from an answer someone said was wrong.

import type { ChatMessage } from '../../text/chat-template.js';
import type { ChatExample, ExportOptions, MessageRecord } from './types.js';

/** Whether an answer is an example's target under `minRating`. */
export function isTarget(m: MessageRecord, minRating: NonNullable<ExportOptions['minRating']>): boolean {
  if (m.role !== 'assistant') return false;
  const f = m.feedback;
  if (f?.correction != null) return true; // a correction always replaces its answer
  if (f?.rating === 'up') return true;
  if (f?.rating === 'down') return false; // disliked, and nobody wrote better: never a target
  // Unrated, exported only with 'none'; an answer stopped before it finished (finish_reason
  // 'abort') is a fragment nobody vouched for, not an answer to learn.
  return minRating === 'none' && m.finishReason !== 'abort';
}

/**
 * The examples of one conversation, in order. The system prompt comes first: the conversation's,
 * or the latest system message before the answer (a change of prompt mid-conversation is stored
 * as a system message and replaces the prompt from there on, as the model saw it).
 */
export function conversationExamples(systemPrompt: string | null, messages: readonly MessageRecord[], o: ExportOptions = {}): ChatExample[] {
  const minRating = o.minRating ?? 'up';
  const out: ChatExample[] = [];
  const history: ChatMessage[] = [];
  let system = systemPrompt || null;
  for (const m of messages) {
    if (m.role === 'system') {
      system = m.content || null;
      continue;
    }
    const content = m.role === 'assistant' && m.feedback?.correction != null ? m.feedback.correction : m.content;
    if (isTarget(m, minRating)) {
      out.push({ messages: [...(system ? [{ role: 'system', content: system }] : []), ...history, { role: 'assistant', content }] });
    }
    history.push({ role: m.role, content });
  }
  return out;
}
