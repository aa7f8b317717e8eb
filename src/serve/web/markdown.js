// A small Markdown renderer for model answers that builds DOM nodes and puts all text in with
// textContent / text nodes, never as HTML: `<script>` or `<img onerror=...>` in an answer shows as
// those characters and runs nothing. It knows what chat answers use: paragraphs (line breaks kept),
// headings, fenced and indented code, inline code, bold, italic, lists, quotes, and links (http and
// https only; anything else stays text). An unclosed fence (an answer still streaming) runs to the end.

/**
 * The blocks of a text as DOM nodes.
 * @param {string} text
 * @returns {DocumentFragment}
 */
export function renderMarkdown(text) {
  const out = document.createDocumentFragment();
  const lines = text.replaceAll('\r\n', '\n').split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    const fence = /^ {0,3}(`{3,}|~{3,})\s*([\w+#.-]*)/.exec(line);
    if (fence) {
      const body = [];
      i++;
      while (i < lines.length && !lines[i].trimStart().startsWith(fence[1])) body.push(lines[i++]);
      i++; // the closing fence
      out.append(codeBlock(body.join('\n'), fence[2]));
      continue;
    }
    if (line.trim() === '') {
      i++;
      continue;
    }
    const heading = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      // h1/h2 of an answer would outrank the page's own headings: start at h3.
      const h = document.createElement(`h${Math.min(6, heading[1].length + 2)}`);
      h.append(inline(heading[2]));
      out.append(h);
      i++;
      continue;
    }
    if (/^ {0,3}([-*_])(\s*\1){2,}\s*$/.test(line)) {
      out.append(document.createElement('hr'));
      i++;
      continue;
    }
    if (/^ {0,3}>/.test(line)) {
      const body = [];
      while (i < lines.length && /^ {0,3}>/.test(lines[i])) body.push(lines[i++].replace(/^ {0,3}> ?/, ''));
      const q = document.createElement('blockquote');
      q.append(renderMarkdown(body.join('\n')));
      out.append(q);
      continue;
    }
    const item = listItem(line);
    if (item) {
      const list = document.createElement(item.ordered ? 'ol' : 'ul');
      if (item.ordered && item.start !== 1) list.setAttribute('start', String(item.start));
      while (i < lines.length) {
        const it = listItem(lines[i]);
        if (it && it.ordered === item.ordered) {
          const li = document.createElement('li');
          const parts = [it.text];
          i++;
          // Continuation lines: indented, not a new item.
          while (i < lines.length && /^\s{2,}\S/.test(lines[i]) && !listItem(lines[i])) parts.push(lines[i++].trim());
          li.append(inlineLines(parts));
          list.append(li);
        } else if (lines[i].trim() === '' && i + 1 < lines.length && listItem(lines[i + 1])?.ordered === item.ordered) {
          i++; // a blank line between items keeps the list going
        } else break;
      }
      out.append(list);
      continue;
    }
    if (/^( {4}|\t)/.test(line)) {
      const body = [];
      while (i < lines.length && (/^( {4}|\t)/.test(lines[i]) || (lines[i].trim() === '' && /^( {4}|\t)/.test(lines[i + 1] ?? '')))) {
        body.push(lines[i++].replace(/^( {4}|\t)/, ''));
      }
      out.append(codeBlock(body.join('\n'), ''));
      continue;
    }
    const para = [];
    while (i < lines.length && lines[i].trim() !== '' && !startsBlock(lines[i])) para.push(lines[i++]);
    if (para.length === 0) para.push(lines[i++]); // a line that looked like a block but was not one
    const p = document.createElement('p');
    p.append(inlineLines(para));
    out.append(p);
  }
  return out;
}

/**
 * @param {string} line
 * @returns {{ ordered: boolean; start: number; text: string } | null}
 */
function listItem(line) {
  const m = /^ {0,3}(?:([-*+])|(\d{1,9})[.)])\s+(.*)$/.exec(line);
  if (!m) return null;
  return { ordered: m[2] !== undefined, start: m[2] !== undefined ? Number(m[2]) : 1, text: m[3] };
}

/** @param {string} line */
function startsBlock(line) {
  return /^ {0,3}(`{3,}|~{3,}|#{1,6}\s|>)/.test(line) || listItem(line) !== null;
}

/**
 * @param {string} code
 * @param {string} lang
 */
function codeBlock(code, lang) {
  const pre = document.createElement('pre');
  const c = document.createElement('code');
  if (lang) c.dataset.lang = lang;
  c.textContent = code;
  pre.append(c);
  return pre;
}

/**
 * Lines of one paragraph or item, with their line breaks kept (answers are written line by line).
 * @param {string[]} lines
 */
function inlineLines(lines) {
  const f = document.createDocumentFragment();
  lines.forEach((l, k) => {
    if (k > 0) f.append(document.createElement('br'));
    f.append(inline(l.trim()));
  });
  return f;
}

// Inline spans, earliest first: code, links, bare URLs, bold, italic. Code spans are literal.
const SPANS = [
  { kind: 'code', re: /(`+)([\s\S]+?)\1/ },
  { kind: 'link', re: /\[([^\]\n]+)\]\(\s*([^)\s]+)(?:\s+"[^"]*")?\s*\)/ },
  { kind: 'url', re: /\bhttps?:\/\/[^\s<>()]+[^\s<>().,;:!?'"]/ },
  { kind: 'strong', re: /(\*\*|__)(?=\S)([\s\S]+?\S)\1/ },
  { kind: 'em', re: /(\*|_)(?=\S)([\s\S]*?\S)\1(?![\w*])/ },
];

/**
 * A link target if it is an absolute http(s) URL, else null (javascript:, data:, relative paths stay text).
 * @param {string} href
 */
export function safeHref(href) {
  try {
    const u = new URL(href);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

/**
 * @param {string} href
 * @param {string | DocumentFragment} content
 */
function link(href, content) {
  const a = document.createElement('a');
  a.href = href;
  a.rel = 'noopener noreferrer nofollow';
  a.target = '_blank';
  a.append(content);
  return a;
}

/**
 * The inline spans of a text as nodes.
 * @param {string} text
 * @returns {DocumentFragment}
 */
function inline(text) {
  const f = document.createDocumentFragment();
  let rest = text;
  while (rest) {
    /** @type {{ kind: string; m: RegExpExecArray } | null} */
    let first = null;
    for (const s of SPANS) {
      const m = s.re.exec(rest);
      // An underscore inside a word (snake_case) is not emphasis.
      if (m && (s.kind === 'em' || s.kind === 'strong') && m[1][0] === '_' && m.index > 0 && /\w/.test(rest[m.index - 1])) continue;
      if (m && (!first || m.index < first.m.index)) first = { kind: s.kind, m };
    }
    if (!first) {
      f.append(rest);
      break;
    }
    const { kind, m } = first;
    if (m.index > 0) f.append(rest.slice(0, m.index));
    if (kind === 'code') {
      const c = document.createElement('code');
      c.textContent = m[2].length > 2 && m[2].startsWith(' ') && m[2].endsWith(' ') ? m[2].slice(1, -1) : m[2];
      f.append(c);
    } else if (kind === 'link') {
      const href = safeHref(m[2]);
      f.append(href ? link(href, inline(m[1])) : m[0]);
    } else if (kind === 'url') {
      const href = safeHref(m[0]);
      f.append(href ? link(href, m[0]) : m[0]);
    } else {
      const e = document.createElement(kind);
      e.append(inline(m[2]));
      f.append(e);
    }
    rest = rest.slice(m.index + m[0].length);
  }
  return f;
}
