// The chat page: past conversations on the side, the conversation in the middle, answers streamed
// in token by token (fetch + Server-Sent Events), a stop button, and thumbs up / down and "suggest
// a better answer" under every answer, all through the server's /v1/conversations routes.
// Model text is rendered by markdown.js, which builds nodes and never parses HTML.

import { ApiError, el, events, getJson, icon, request, when } from './api.js';
import { renderMarkdown } from './markdown.js';

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const messagesEl = $('messages');
const emptyEl = $('empty');
const question = /** @type {HTMLTextAreaElement} */ ($('question'));
const sendButton = /** @type {HTMLButtonElement} */ ($('send'));
const stopButton = /** @type {HTMLButtonElement} */ ($('stop'));
const systemPrompt = /** @type {HTMLTextAreaElement} */ ($('system-prompt'));
const temperature = /** @type {HTMLInputElement} */ ($('temperature'));
const temperatureValue = /** @type {HTMLOutputElement} */ ($('temperature-value'));
const banner = $('banner');

// Settings last used, kept in this browser (not secrets: the key is in sessionStorage only).
const SETTINGS = 'nabla-chat-settings';
const saved = (() => {
  try {
    return JSON.parse(localStorage.getItem(SETTINGS) ?? '{}');
  } catch {
    return {};
  }
})();
systemPrompt.value = typeof saved.systemPrompt === 'string' ? saved.systemPrompt : '';
temperature.value = typeof saved.temperature === 'number' ? String(saved.temperature) : temperature.value;
temperatureValue.value = temperature.value;
const saveSettings = () => localStorage.setItem(SETTINGS, JSON.stringify({ systemPrompt: systemPrompt.value, temperature: Number(temperature.value) }));
temperature.addEventListener('input', () => {
  temperatureValue.value = temperature.value;
  saveSettings();
});
systemPrompt.addEventListener('change', saveSettings);

/** @type {{ id: string | null; busy: AbortController | null }} */
const state = { id: null, busy: null };

/** @param {string} text @param {'error' | 'info'} [kind] */
function showBanner(text, kind = 'error') {
  banner.textContent = text;
  banner.dataset.kind = kind;
  banner.hidden = false;
}
const hideBanner = () => {
  banner.hidden = true;
};

/** @param {unknown} e */
function report(e) {
  if (e instanceof DOMException && e.name === 'AbortError') return;
  showBanner(e instanceof Error ? e.message : String(e));
}

// ---- the list of conversations ----

async function loadList() {
  const list = $('conversations');
  const { data } = await getJson('/v1/conversations?limit=100');
  list.replaceChildren();
  for (const c of data) {
    const li = el('li');
    const open = el('button', 'conversation-item');
    open.type = 'button';
    open.dataset.id = c.id;
    markCurrent(open);
    open.append(el('span', 'conversation-title', c.title || 'Untitled'), el('span', 'conversation-meta', `${when(c.updated_at)} · ${c.message_count} messages`));
    open.addEventListener('click', () => {
      location.hash = `c=${c.id}`;
      closeMenu();
    });
    const remove = el('button', 'icon-button delete');
    remove.append(icon('close'));
    remove.type = 'button';
    remove.title = 'Delete this conversation';
    remove.setAttribute('aria-label', `Delete “${c.title || 'Untitled'}”`);
    remove.addEventListener('click', async () => {
      if (!confirm(`Delete “${c.title || 'Untitled'}” and its feedback?`)) return;
      try {
        await request(`/v1/conversations/${c.id}`, { method: 'DELETE' });
        if (c.id === state.id) location.hash = '';
        await loadList();
      } catch (e) {
        report(e);
      }
    });
    li.append(open, remove);
    list.append(li);
  }
  $('conversations-empty').hidden = data.length > 0;
}

/** @param {HTMLElement} item */
function markCurrent(item) {
  if (item.dataset.id === state.id) item.setAttribute('aria-current', 'true');
  else item.removeAttribute('aria-current');
}

// ---- one conversation ----

/** The effective system prompt of a loaded conversation: its latest system message, else its own. */
function systemPromptOf(/** @type {any} */ c) {
  for (let i = c.messages.length - 1; i >= 0; i--) if (c.messages[i].role === 'system') return c.messages[i].content;
  return c.system_prompt ?? '';
}

async function openConversation(/** @type {string | null} */ id) {
  state.id = id;
  messagesEl.replaceChildren(emptyEl);
  emptyEl.hidden = id !== null;
  for (const b of document.querySelectorAll('.conversation-item')) markCurrent(/** @type {HTMLElement} */ (b));
  if (id === null) {
    systemPrompt.value = saved.systemPrompt ?? '';
    return;
  }
  try {
    const c = await getJson(`/v1/conversations/${encodeURIComponent(id)}`);
    if (state.id !== id) return;
    systemPrompt.value = systemPromptOf(c);
    document.title = `${c.title || 'Conversation'} · nabla chat`;
    for (const m of c.messages) {
      if (m.role === 'user') messagesEl.append(userMessage(m.content));
      else if (m.role === 'assistant') messagesEl.append(assistantMessage(m).root);
    }
    messagesEl.scrollTop = messagesEl.scrollHeight;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      showBanner('That conversation no longer exists.', 'info');
      location.hash = '';
    } else report(e);
  }
}

/** @param {string} text */
function userMessage(text) {
  const root = el('article', 'message user');
  root.append(el('div', 'bubble', text));
  return root;
}

/** @param {any} m */
function metaText(m) {
  const parts = [];
  if (m.completion_tokens != null) parts.push(`${m.completion_tokens} tokens`);
  const speed = m.timings?.predicted_per_second;
  if (typeof speed === 'number') parts.push(`${speed.toFixed(speed < 10 ? 1 : 0)} tokens/s`);
  if (m.finish_reason === 'abort') parts.push('stopped');
  else if (m.finish_reason === 'length') parts.push('cut at the length limit');
  return parts.join(' · ');
}

/**
 * An answer: its text rendered safely, then (once stored) its meta line and feedback controls.
 * @param {any} m a stored message, or {content: ''} while streaming
 */
function assistantMessage(m) {
  const root = el('article', 'message assistant');
  const body = el('div', 'answer');
  const content = el('div', 'markdown');
  content.append(renderMarkdown(m.content));
  body.append(content);
  const correction = el('div', 'correction');
  correction.hidden = true;
  const footer = el('div', 'answer-footer');
  body.append(correction, footer);
  root.append(body);
  let text = m.content;
  let pending = false;
  const view = {
    root,
    /** @param {string} delta */
    append(delta) {
      text += delta;
      // Re-render at most once a frame: the whole answer, so Markdown spanning chunks comes out right.
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        content.replaceChildren(renderMarkdown(text));
        const nearBottom = messagesEl.scrollHeight - messagesEl.scrollTop - messagesEl.clientHeight < 120;
        if (nearBottom) messagesEl.scrollTop = messagesEl.scrollHeight;
      });
    },
    /** @param {any} stored */
    stored(stored) {
      root.dataset.id = stored.id;
      text = stored.content;
      content.replaceChildren(renderMarkdown(text));
      if (stored.content === '') content.append(el('p', 'muted', '(no answer)'));
      footer.replaceChildren(feedbackControls(stored), el('span', 'meta', metaText(stored)));
      root.querySelector('.correction')?.replaceWith(correctionView(stored));
    },
  };
  if (m.id) view.stored(m);
  else root.classList.add('streaming');
  return view;
}

/** @param {any} m */
function correctionView(m) {
  const box = el('div', 'correction');
  box.hidden = !m.feedback?.correction;
  if (m.feedback?.correction) {
    box.append(el('div', 'correction-label', 'Better answer (suggested)'));
    const c = el('div', 'markdown');
    c.append(renderMarkdown(m.feedback.correction));
    box.append(c);
  }
  return box;
}

/**
 * Thumbs up / down and "suggest a better answer" for a stored answer.
 * @param {any} m
 */
function feedbackControls(m) {
  const bar = el('div', 'feedback');
  let rating = m.feedback?.rating ?? null;
  let correction = m.feedback?.correction ?? null;
  const up = el('button', 'icon-button thumb up');
  const down = el('button', 'icon-button thumb down');
  up.append(icon('up'));
  down.append(icon('down'));
  const suggest = el('button', 'ghost small suggest', 'Suggest a better answer');
  up.type = down.type = suggest.type = 'button';
  up.title = 'Good answer';
  down.title = 'Bad answer';
  up.setAttribute('aria-label', 'Good answer');
  down.setAttribute('aria-label', 'Bad answer');
  const paint = () => {
    up.setAttribute('aria-pressed', String(rating === 'up'));
    down.setAttribute('aria-pressed', String(rating === 'down'));
    suggest.textContent = correction ? 'Edit the better answer' : 'Suggest a better answer';
  };
  paint();
  const root = () => /** @type {HTMLElement} */ (bar.closest('.message'));
  /** @param {Record<string, unknown>} body */
  const send = async (body) => {
    const f = await getJson(`/v1/messages/${m.id}/feedback`, { method: 'POST', json: body });
    rating = f.rating;
    correction = f.correction;
    m.feedback = f;
    paint();
    root().querySelector('.correction')?.replaceWith(correctionView(m));
  };
  /** @param {'up' | 'down'} r */
  const rate = async (r) => {
    try {
      await send({ rating: rating === r ? null : r });
      if (rating === 'down' && !correction) openEditor();
    } catch (e) {
      report(e);
    }
  };
  up.addEventListener('click', () => rate('up'));
  down.addEventListener('click', () => rate('down'));
  const openEditor = () => {
    const message = root();
    if (message.querySelector('.editor')) return;
    const form = el('form', 'editor');
    const label = el('label', 'small', 'A better answer (used to train the model again):');
    const area = el('textarea');
    label.htmlFor = area.id = `correction-${m.id}`;
    area.rows = 4;
    area.value = correction ?? m.content;
    const row = el('div', 'row end');
    const cancel = el('button', 'ghost', 'Cancel');
    cancel.type = 'button';
    const save = el('button', 'primary', 'Save');
    save.type = 'submit';
    row.append(cancel, save);
    form.append(label, area, row);
    cancel.addEventListener('click', () => form.remove());
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        await send({ correction: area.value.trim() === '' ? null : area.value, ...(rating === null ? { rating: 'down' } : {}) });
        form.remove();
      } catch (e) {
        report(e);
      }
    });
    message.append(form);
    area.focus();
    area.select();
  };
  suggest.addEventListener('click', openEditor);
  bar.append(up, down, suggest);
  return bar;
}

// ---- asking ----

/** Wait for a stopped answer to be stored (the server keeps what was generated), then show the stored conversation. */
async function reloadAfterStop(/** @type {string} */ id, /** @type {string} */ userId) {
  for (let tries = 0; tries < 40 && state.id === id; tries++) {
    const c = await getJson(`/v1/conversations/${encodeURIComponent(id)}`);
    const at = c.messages.findIndex((/** @type {any} */ m) => m.id === userId);
    if (at >= 0 && c.messages.slice(at + 1).some((/** @type {any} */ m) => m.role === 'assistant')) return openConversation(id);
    await new Promise((r) => setTimeout(r, 150));
  }
}

async function ask(/** @type {string} */ text) {
  hideBanner();
  const controller = new AbortController();
  state.busy = controller;
  sendButton.hidden = true;
  stopButton.hidden = false;
  question.value = '';
  autosize();
  let view = null;
  let userId = null;
  let id = state.id;
  try {
    if (id === null) {
      const title = text.replace(/\s+/g, ' ').trim().slice(0, 80);
      const c = await getJson('/v1/conversations', { method: 'POST', json: { title, system_prompt: systemPrompt.value.trim() || null } });
      id = state.id = c.id;
      history.replaceState(null, '', `#c=${id}`);
      emptyEl.hidden = true;
      loadList().catch(() => {});
    }
    messagesEl.append(userMessage(text));
    view = assistantMessage({ content: '' });
    messagesEl.append(view.root);
    messagesEl.scrollTop = messagesEl.scrollHeight;
    const r = await request(`/v1/conversations/${encodeURIComponent(String(id))}/messages`, {
      method: 'POST',
      json: { content: text, system_prompt: systemPrompt.value.trim() || null, temperature: Number(temperature.value), stream: true },
      signal: controller.signal,
    });
    for await (const e of events(r)) {
      if (e.object === 'conversation.user_message') userId = e.message.id;
      else if (e.object === 'chat.completion.chunk') {
        const delta = e.choices[0]?.delta?.content;
        if (delta) view.append(delta);
      } else if (e.object === 'conversation.assistant_message') {
        view.root.classList.remove('streaming');
        view.stored(e.message);
      }
    }
  } catch (e) {
    if (controller.signal.aborted && id !== null && userId !== null) {
      view?.root.classList.remove('streaming');
      await reloadAfterStop(id, userId).catch(report);
    } else if (controller.signal.aborted && id !== null && state.id === id) {
      // Stopped before the server confirmed the question: show what it stored, if anything.
      await new Promise((r) => setTimeout(r, 300));
      await openConversation(id);
    } else {
      view?.root.remove();
      report(e);
    }
  } finally {
    state.busy = null;
    sendButton.hidden = false;
    stopButton.hidden = true;
    question.focus();
    loadList().catch(() => {});
  }
}

$('composer').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const text = question.value.trim();
  if (text === '' || state.busy) return;
  ask(text);
});
// Enter sends; Shift+Enter is a new line.
question.addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
    ev.preventDefault();
    /** @type {HTMLFormElement} */ ($('composer')).requestSubmit();
  }
});
const autosize = () => {
  question.style.height = 'auto';
  question.style.height = `${Math.min(question.scrollHeight, 200)}px`;
};
question.addEventListener('input', autosize);
stopButton.addEventListener('click', () => state.busy?.abort());

$('new').addEventListener('click', () => {
  state.busy?.abort();
  location.hash = '';
  openConversation(null);
  closeMenu();
  question.focus();
});

// ---- settings and the narrow-screen menu ----

$('settings-toggle').addEventListener('click', () => {
  const s = $('settings');
  s.hidden = !s.hidden;
  $('settings-toggle').setAttribute('aria-expanded', String(!s.hidden));
});
const menu = $('menu');
const scrim = $('scrim');
function closeMenu() {
  document.body.classList.remove('menu-open');
  menu.setAttribute('aria-expanded', 'false');
  scrim.hidden = true;
}
menu.addEventListener('click', () => {
  const open = !document.body.classList.contains('menu-open');
  document.body.classList.toggle('menu-open', open);
  menu.setAttribute('aria-expanded', String(open));
  scrim.hidden = !open;
});
scrim.addEventListener('click', closeMenu);

// ---- start ----

const fromHash = () => /^#c=([\w-]+)$/.exec(location.hash)?.[1] ?? null;
window.addEventListener('hashchange', () => {
  if (fromHash() !== state.id) openConversation(fromHash());
});

async function start() {
  try {
    let models;
    // While the model loads the server answers 503 (model_loading): wait for it.
    for (;;) {
      try {
        models = await getJson('/v1/models');
        break;
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 'model_loading')) throw e;
        $('model').textContent = 'model loading…';
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    const m = models.data[0];
    $('model').textContent = m ? m.id : 'no model';
    $('model').title = m ? `The model answering (context ${m.max_model_len} tokens)` : '';
  } catch (e) {
    $('model').textContent = 'model unavailable';
    report(e);
    return;
  }
  try {
    await loadList();
  } catch (e) {
    if (e instanceof ApiError && e.code === 'store_disabled') {
      showBanner(e.message, 'info');
      /** @type {HTMLFieldSetElement | HTMLFormElement} */ ($('composer')).inert = true;
      return;
    }
    report(e);
  }
  await openConversation(fromHash());
  document.body.dataset.ready = 'true';
}
start();
