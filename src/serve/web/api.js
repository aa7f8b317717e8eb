// The pages' client of the nabla server: JSON requests with the API key (asked for once on a 401
// and kept in sessionStorage for the tab's session), errors in the server's OpenAI shape, and the
// Server-Sent Events of a streamed answer read from a fetch body.

const KEY = 'nabla-api-key';

/** An error answer of the server: its status, message and code. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} message
   * @param {string | null} code
   */
  constructor(status, message, code = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/** @type {Promise<string | null> | null} */
let asking = null;

/**
 * Ask for the API key in a modal dialog (one at a time: requests refused together wait for one answer).
 * @param {boolean} refused the key sent was refused
 * @returns {Promise<string | null>} the key, or null when the person cancels
 */
function askKey(refused) {
  asking ??= new Promise((resolve) => {
    const dialog = document.createElement('dialog');
    dialog.className = 'key-dialog';
    const form = document.createElement('form');
    form.method = 'dialog';
    const title = document.createElement('h2');
    title.textContent = 'API key';
    const text = document.createElement('p');
    text.textContent = refused
      ? 'The server refused that key. Enter the key it was started with (--api-key or NABLA_API_KEY).'
      : 'This server needs an API key. Enter the key it was started with (--api-key or NABLA_API_KEY); it is kept for this tab only.';
    const input = document.createElement('input');
    input.type = 'password';
    input.name = 'key';
    input.id = 'api-key';
    input.autocomplete = 'current-password';
    input.required = true;
    input.setAttribute('aria-label', 'API key');
    const buttons = document.createElement('div');
    buttons.className = 'row end';
    const cancel = document.createElement('button');
    cancel.type = 'button';
    cancel.className = 'ghost';
    cancel.textContent = 'Cancel';
    const ok = document.createElement('button');
    ok.type = 'submit';
    ok.className = 'primary';
    ok.id = 'api-key-ok';
    ok.textContent = 'Use this key';
    buttons.append(cancel, ok);
    form.append(title, text, input, buttons);
    dialog.append(form);
    document.body.append(dialog);
    cancel.addEventListener('click', () => dialog.close(''));
    form.addEventListener('submit', () => {
      dialog.returnValue = input.value.trim();
    });
    dialog.addEventListener('close', () => {
      dialog.remove();
      asking = null;
      resolve(dialog.returnValue ? dialog.returnValue : null);
    });
    dialog.showModal();
    input.focus();
  });
  return asking;
}

/**
 * A request to the server with the key; resolves to the response when it is 2xx, else throws ApiError.
 * A 401 asks for the key (once per refusal) and retries.
 * @param {string} path
 * @param {RequestInit & { json?: unknown }} [init]
 * @returns {Promise<Response>}
 */
export async function request(path, init = {}) {
  const { json, ...rest } = init;
  for (let attempt = 0; ; attempt++) {
    const headers = new Headers(rest.headers);
    const key = sessionStorage.getItem(KEY);
    if (key) headers.set('authorization', `Bearer ${key}`);
    if (json !== undefined) headers.set('content-type', 'application/json');
    const r = await fetch(path, { ...rest, headers, body: json !== undefined ? JSON.stringify(json) : rest.body });
    if (r.status === 401 && attempt < 3) {
      sessionStorage.removeItem(KEY);
      const given = await askKey(key !== null);
      if (given === null) throw new ApiError(401, 'This server needs an API key; reload the page to enter it.', 'invalid_api_key');
      sessionStorage.setItem(KEY, given);
      continue;
    }
    if (!r.ok) {
      let message = `${r.status} ${r.statusText}`;
      let code = null;
      try {
        const body = await r.json();
        message = body.error?.message ?? message;
        code = body.error?.code ?? null;
      } catch {}
      throw new ApiError(r.status, message, code);
    }
    return r;
  }
}

/**
 * JSON of a request.
 * @param {string} path
 * @param {RequestInit & { json?: unknown }} [init]
 * @returns {Promise<any>}
 */
export async function getJson(path, init) {
  return (await request(path, init)).json();
}

/**
 * The events of a Server-Sent Events body, parsed as JSON, up to `data: [DONE]`. An `{"error": ...}`
 * event (the server failed after the stream began) throws.
 * @param {Response} response
 * @returns {AsyncGenerator<any>}
 */
export async function* events(response) {
  if (!response.body) return;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replaceAll('\r\n', '\n');
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).replace(/^ /, ''))
        .join('\n');
      if (data === '') continue;
      if (data === '[DONE]') return;
      const event = JSON.parse(data);
      if (event.error) throw new ApiError(500, event.error.message ?? 'the server failed while answering', event.error.code ?? null);
      yield event;
    }
  }
}

/**
 * "3 min ago", "yesterday", or the date, for a listing.
 * @param {string} iso
 */
export function when(iso) {
  const t = new Date(iso);
  const s = (Date.now() - t.getTime()) / 1000;
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  if (s < 2 * 86400) return 'yesterday';
  return t.toLocaleDateString();
}

/**
 * An element with a class and text (text always as text, never as HTML).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string} [className]
 * @param {string} [text]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

// Icons as SVG paths (Feather's, MIT): emoji would depend on the fonts of the machine.
const ICONS = {
  up: ['M14 9V5a3 3 0 0 0-3-3l-4 9v11h11.28a2 2 0 0 0 2-1.7l1.38-9a2 2 0 0 0-2-2.3z', 'M7 22H4a2 2 0 0 1-2-2v-7a2 2 0 0 1 2-2h3'],
  down: ['M10 15v4a3 3 0 0 0 3 3l4-9V2H5.72a2 2 0 0 0-2 1.7l-1.38 9a2 2 0 0 0 2 2.3z', 'M17 2h2.67A2.31 2.31 0 0 1 22 4v7a2.31 2.31 0 0 1-2.33 2H17'],
  close: ['M18 6 6 18', 'M6 6l12 12'],
  edit: ['M12 20h9', 'M16.5 3.5a2.12 2.12 0 0 1 3 3L7 19l-4 1 1-4z'],
};

/**
 * An inline SVG icon drawn in the text colour.
 * @param {keyof typeof ICONS} name
 * @returns {SVGSVGElement}
 */
export function icon(name) {
  const NS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', `icon icon-${name}`);
  svg.setAttribute('aria-hidden', 'true');
  for (const d of ICONS[name]) {
    const path = document.createElementNS(NS, 'path');
    path.setAttribute('d', d);
    svg.append(path);
  }
  return svg;
}
