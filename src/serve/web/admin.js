// The admin page: the stored conversations with their feedback (ratings and suggested better
// answers), filtered by rating, each opened in place; and the export of the training examples
// (GET /v1/feedback/export) as a JSONL download. Behind the API key like the rest of /v1.

import { ApiError, el, getJson, request, when } from './api.js';
import { renderMarkdown } from './markdown.js';

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const list = $('list');
const banner = $('banner');
const rating = /** @type {HTMLSelectElement} */ ($('rating'));
const more = /** @type {HTMLButtonElement} */ ($('more'));
const PAGE = 50;
let offset = 0;

/** @param {unknown} e */
function report(e) {
  banner.textContent = e instanceof Error ? e.message : String(e);
  banner.dataset.kind = e instanceof ApiError && e.code === 'store_disabled' ? 'info' : 'error';
  banner.hidden = false;
}

/** The feedback counts of a conversation as small labels. @param {any} c */
function counts(c) {
  const box = el('span', 'counts');
  box.append(el('span', 'conversation-meta', `${when(c.updated_at)} · ${c.message_count} messages`));
  if (c.up_count) box.append(el('span', 'pill good', `${c.up_count} liked`));
  if (c.down_count) box.append(el('span', 'pill bad', `${c.down_count} disliked`));
  if (c.correction_count) box.append(el('span', 'pill fixed', `${c.correction_count} corrected`));
  return box;
}

/** The messages of a conversation with their feedback. @param {any} c */
function transcript(c) {
  const box = el('div', 'transcript');
  if (c.system_prompt) box.append(el('div', 'turn system', `System: ${c.system_prompt}`));
  for (const m of c.messages) {
    const turn = el('div', `turn ${m.role}`);
    turn.dataset.id = m.id;
    const who = el('div', 'turn-role', m.role === 'assistant' ? `Assistant${m.model ? ` (${m.model})` : ''}` : m.role === 'user' ? 'User' : 'System');
    const body = el('div', 'markdown');
    if (m.role === 'assistant') body.append(renderMarkdown(m.content));
    else body.append(el('p', 'plain', m.content));
    turn.append(who, body);
    if (m.role === 'assistant') {
      const meta = el('div', 'meta');
      if (m.feedback?.rating === 'up') meta.append(el('span', 'pill good', 'liked'));
      if (m.feedback?.rating === 'down') meta.append(el('span', 'pill bad', 'disliked'));
      const facts = [];
      if (m.finish_reason === 'abort') facts.push('stopped');
      if (m.sampling?.temperature !== undefined) facts.push(`temperature ${m.sampling.temperature}`);
      if (m.completion_tokens != null) facts.push(`${m.completion_tokens} tokens`);
      meta.append(facts.join(' · '));
      turn.append(meta);
      if (m.feedback?.correction) {
        const fix = el('div', 'correction');
        fix.append(el('div', 'correction-label', 'Better answer (suggested)'));
        const text = el('div', 'markdown');
        text.append(renderMarkdown(m.feedback.correction));
        fix.append(text);
        turn.append(fix);
      }
    }
    box.append(turn);
  }
  return box;
}

/** @param {any} c */
function row(c) {
  const li = el('li', 'admin-item');
  li.dataset.id = c.id;
  const details = el('details');
  const summary = el('summary');
  summary.append(el('span', 'conversation-title', c.title || 'Untitled'), counts(c));
  details.append(summary);
  details.addEventListener('toggle', async () => {
    if (!details.open || details.querySelector('.transcript')) return;
    try {
      details.append(transcript(await getJson(`/v1/conversations/${encodeURIComponent(c.id)}`)));
    } catch (e) {
      report(e);
    }
  });
  li.append(details);
  return li;
}

async function load(reset = true) {
  if (reset) {
    offset = 0;
    list.replaceChildren();
  }
  try {
    const { data } = await getJson(`/v1/conversations?rating=${encodeURIComponent(rating.value)}&limit=${PAGE}&offset=${offset}`);
    banner.hidden = true;
    for (const c of data) list.append(row(c));
    offset += data.length;
    more.hidden = data.length < PAGE;
    $('empty').hidden = offset > 0;
  } catch (e) {
    report(e);
  }
  document.body.dataset.ready = 'true';
}

rating.addEventListener('change', () => load());
more.addEventListener('click', () => load(false));

$('export').addEventListener('click', async () => {
  try {
    const minRating = /** @type {HTMLSelectElement} */ ($('min-rating')).value;
    // fetch (with the key), then save the body: a plain link could not send the Authorization header.
    const r = await request(`/v1/feedback/export?min_rating=${encodeURIComponent(minRating)}`);
    const blob = await r.blob();
    const name = /filename="([^"]+)"/.exec(r.headers.get('content-disposition') ?? '')?.[1] ?? 'nabla-feedback.jsonl';
    const a = el('a');
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  } catch (e) {
    report(e);
  }
});

getJson('/v1/models')
  .then((m) => {
    $('model').textContent = m.data[0]?.id ?? 'no model';
  })
  .catch(() => {
    $('model').textContent = 'model loading…';
  })
  .finally(() => load());
