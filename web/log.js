// The job log viewer of the slipway dashboard: turns a stream of log text
// (ANSI SGR colours, carriage-return progress lines, GitLab's section
// markers) into numbered DOM lines. Log text never goes through innerHTML:
// every piece becomes a text node. Text is queued and rendered in batches,
// one requestAnimationFrame per batch, so a 50,000-line log stays responsive.
'use strict';

// GitLab Runner's collapsible sections:
//   section_start:UNIX_TIME:NAME[collapsed=true]\r\e[0K  ...  section_end:UNIX_TIME:NAME\r\e[0K
const SECTION_RE = /section_(start|end):(\d+):([A-Za-z0-9_.\-]+)(\[[^\]\r\n]*\])?/g;
// CSI sequences (SGR and the erase-line ones the runner writes) and OSC titles.
const ESC_RE = /\x1b\[[0-9;?]*[ -\/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)?|\x1b[@-Z\\-_]?/g;
// An escape sequence cut at the end of a chunk.
const PARTIAL_ESC_RE = /\x1b(\[[0-9;?]*[ -\/]*|\][^\x07\x1b]*)?$/;
const FRAME_BUDGET_MS = 12; // Lines are built for about this long per animation frame.
// Lines are grouped in blocks that the browser skips laying out while off
// screen (content-visibility: auto; style.css assumes about 100 lines).
const BLOCK_LINES = 100;
const COMPACT_AT = 65536;   // An unfinished line longer than this drops overwritten text.

const BASIC_COLOURS = ['black', 'red', 'green', 'yellow', 'blue', 'magenta', 'cyan', 'white'];

// The 256-colour palette as CSS colours: 16 named classes, a 6x6x6 cube, 24 greys.
function xtermColour(n) {
  if (n < 16) return null;
  if (n >= 232) {
    const v = 8 + (n - 232) * 10;
    return `rgb(${v},${v},${v})`;
  }
  const i = n - 16;
  const level = (c) => (c === 0 ? 0 : 55 + c * 40);
  return `rgb(${level(Math.floor(i / 36))},${level(Math.floor(i / 6) % 6)},${level(i % 6)})`;
}

// Text style after SGR codes. fg/bg: {cls: 'c-red'|'c-bright-red'} or {css: 'rgb(...)'}.
function emptyStyle() {
  return { fg: null, bg: null, bold: false, faint: false, italic: false, underline: false, inverse: false };
}

function colourOf(n) {
  return n < 8 ? { cls: BASIC_COLOURS[n] } : n < 16 ? { cls: 'bright-' + BASIC_COLOURS[n - 8] } : { css: xtermColour(n) };
}

// Applies one SGR parameter list ("1;31", "38;5;208", "") to a copy of style.
function applySgr(style, params) {
  const s = Object.assign({}, style);
  const codes = params === '' ? [0] : params.split(';').map((p) => (p === '' ? 0 : Number(p)));
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i];
    if (c === 0) Object.assign(s, emptyStyle());
    else if (c === 1) s.bold = true;
    else if (c === 2) s.faint = true;
    else if (c === 3) s.italic = true;
    else if (c === 4) s.underline = true;
    else if (c === 7) s.inverse = true;
    else if (c === 22) s.bold = s.faint = false;
    else if (c === 23) s.italic = false;
    else if (c === 24) s.underline = false;
    else if (c === 27) s.inverse = false;
    else if (c >= 30 && c <= 37) s.fg = colourOf(c - 30);
    else if (c === 39) s.fg = null;
    else if (c >= 40 && c <= 47) s.bg = colourOf(c - 40);
    else if (c === 49) s.bg = null;
    else if (c >= 90 && c <= 97) s.fg = colourOf(c - 90 + 8);
    else if (c >= 100 && c <= 107) s.bg = colourOf(c - 100 + 8);
    else if (c === 38 || c === 48) {
      let colour = null;
      if (codes[i + 1] === 5 && i + 2 < codes.length) {
        colour = colourOf(Math.min(255, codes[i + 2]));
        i += 2;
      } else if (codes[i + 1] === 2 && i + 4 < codes.length) {
        const [r, g, b] = codes.slice(i + 2, i + 5).map((v) => Math.min(255, v));
        colour = { css: `rgb(${r},${g},${b})` };
        i += 4;
      } else {
        break;  // Malformed: ignore the rest, as terminals do.
      }
      if (c === 38) s.fg = colour; else s.bg = colour;
    }
  }
  return s;
}

// Splits text into [{text, style}] segments, following SGR sequences and
// dropping every other escape sequence. Returns the style at the end.
function renderSegments(text, style, out) {
  let last = 0;
  ESC_RE.lastIndex = 0;
  for (let m; (m = ESC_RE.exec(text));) {
    if (m.index > last) out.push({ text: text.slice(last, m.index), style });
    const seq = m[0];
    if (seq.startsWith('\x1b[') && seq.endsWith('m')) style = applySgr(style, seq.slice(2, -1));
    last = m.index + seq.length;
  }
  if (last < text.length) out.push({ text: text.slice(last), style });
  return style;
}

function hasVisibleText(part) {
  return part.replace(ESC_RE, '').length > 0;
}

// Parses one line of raw log text (without its \n) starting in `style`.
// Section markers are taken out; after carriage returns only the last part
// that shows something is kept, as a terminal would show the final state
// of a progress line. Returns {segments, style, markers, text}.
function parseLine(raw, style) {
  const markers = [];
  raw = raw.replace(SECTION_RE, (_, kind, time, name, options) => {
    markers.push({ kind, time: Number(time), name, collapsed: /collapsed=true/.test(options || '') });
    return '';
  });
  if (raw.endsWith('\r')) raw = raw.slice(0, -1);
  const parts = raw.split('\r');
  let shown = parts.length - 1;
  while (shown > 0 && !hasVisibleText(parts[shown])) shown--;
  const segments = [];
  parts.forEach((part, i) => {
    if (i === shown) style = renderSegments(part, style, segments);
    else style = renderSegments(part, style, []);
  });
  return { segments, style, markers, text: segments.map((s) => s.text).join('') };
}

// Keeps what matters of the text overwritten by carriage returns in a long
// unfinished line (escape sequences and section markers) and drops the rest.
function compactLine(raw) {
  const cut = raw.lastIndexOf('\r', raw.length - 2);
  if (cut <= 0) return raw;
  const kept = raw.slice(0, cut).match(new RegExp(`${SECTION_RE.source}|${ESC_RE.source}`, 'g')) || [];
  return kept.join('') + raw.slice(cut);
}

function styleClasses(style) {
  const fg = style.inverse ? style.bg || { cls: 'inverse-fg' } : style.fg;
  const bg = style.inverse ? style.fg || { cls: 'inverse-bg' } : style.bg;
  const classes = [];
  let css = '';
  if (fg) { if (fg.cls) classes.push('fg-' + fg.cls); else css += `color:${fg.css};`; }
  if (bg) { if (bg.cls) classes.push('bg-' + bg.cls); else css += `background-color:${bg.css};`; }
  if (style.bold) classes.push('b');
  if (style.faint) classes.push('f');
  if (style.italic) classes.push('i');
  if (style.underline) classes.push('u');
  return { cls: classes.join(' '), css };
}

function isPlain(style) {
  return !style.fg && !style.bg && !style.bold && !style.faint && !style.italic && !style.underline && !style.inverse;
}

// The viewer. options.lineHref(n) gives the link of line n (1-based).
class LogView {
  constructor(container, options) {
    this.container = container;
    this.lineHref = options.lineHref;
    this.onLines = options.onLines || (() => {});
    this.lines = [];          // Plain text of every closed line (for search).
    this.elements = [];       // The DOM element of every line, closed or open.
    this.queue = [];          // Text received but not rendered yet.
    this.carry = '';          // An escape sequence cut at the end of a chunk.
    this.openRaw = '';        // Raw text of the unfinished last line.
    this.openElement = null;
    this.style = emptyStyle();  // Style at the start of the open line.
    this.sections = [];       // Open sections: {id, name, time, header}.
    this.nextSection = 1;
    this.collapseRules = new Map();  // Section id -> CSS rule hiding its lines.
    this.frame = 0;
    this.follow = true;
    this.highlighted = null;
    this.pendingAnchor = 0;
    this.sheet = document.createElement('style');
    document.head.appendChild(this.sheet);
    this.chunk = null;        // Lines are grouped in blocks for content-visibility.
    container.addEventListener('scroll', () => {
      this.follow = container.scrollHeight - container.scrollTop - container.clientHeight < 40;
      this.onFollowChange && this.onFollowChange(this.follow);
    });
    container.addEventListener('click', (e) => {
      const toggle = e.target.closest('button.section-toggle');
      if (toggle) this.toggleSection(toggle);
    });
  }

  destroy() {
    cancelAnimationFrame(this.frame);
    this.sheet.remove();
  }

  append(text) {
    if (!text) return;
    this.queue.push(text);
    if (!this.frame) this.frame = requestAnimationFrame(() => this.flush());
  }

  // Renders queued lines for about FRAME_BUDGET_MS; schedules another frame for the rest.
  flush() {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    const text = this.carry + this.queue.join('');
    this.queue = [];
    this.carry = '';
    const fragment = document.createDocumentFragment();
    const firstNew = this.lines.length;
    const deadline = performance.now() + FRAME_BUDGET_MS;
    let start = 0;
    for (let nl, built = 1; (nl = text.indexOf('\n', start)) >= 0; built++) {
      this.closeLine(this.openRaw + text.slice(start, nl), fragment);
      this.openRaw = '';
      start = nl + 1;
      if (built % 64 === 0 && performance.now() > deadline) break;
    }
    let rest = text.slice(start);
    if (rest.includes('\n')) {
      // Over the frame's budget: the remainder waits for the next frame.
      this.queue.push(rest);
      this.frame = requestAnimationFrame(() => this.flush());
    } else {
      const partial = PARTIAL_ESC_RE.exec(rest);
      if (partial) {
        this.carry = partial[0];
        rest = rest.slice(0, partial.index);
      }
      const open = this.openRaw + rest;
      this.openRaw = open.length > COMPACT_AT ? compactLine(open) : open;
    }
    this.placeLines(fragment);
    this.renderOpenLine();
    if (this.follow) this.container.scrollTop = this.container.scrollHeight;
    if (this.pendingAnchor && this.pendingAnchor <= this.elements.length) this.highlightLine(this.pendingAnchor);
    if (this.lines.length > firstNew) this.onLines(firstNew, this.lines.length);
    if (this.ending && !this.frame) this.end();
  }

  // The log is complete: once the queued text is rendered, the unfinished
  // line, if any, becomes a closed line and onEnd() is called.
  finish(onEnd) {
    this.ending = onEnd || (() => {});
    if (!this.frame) this.frame = requestAnimationFrame(() => this.flush());
  }

  end() {
    const onEnd = this.ending;
    this.ending = null;
    if (this.openRaw || this.carry) {
      const fragment = document.createDocumentFragment();
      this.closeLine(this.openRaw + this.carry, fragment);
      this.openRaw = this.carry = '';
      this.placeLines(fragment);
      this.onLines(this.lines.length - 1, this.lines.length);
    }
    onEnd();
  }

  closeLine(raw, fragment) {
    if (this.openElement) {
      this.openElement.remove();
      this.elements.pop();
      this.openElement = null;
    }
    const parsed = parseLine(raw, this.style);
    this.style = parsed.style;
    const element = this.buildLine(parsed, true);
    this.lines.push(parsed.text);
    fragment.appendChild(element);
  }

  renderOpenLine() {
    if (!this.openRaw) return;
    if (this.openElement) this.elements.pop();
    const parsed = parseLine(this.openRaw, this.style);
    const element = this.buildLine(parsed, false);
    if (this.openElement) {
      this.openElement.replaceWith(element);
    } else {
      this.currentChunk().appendChild(element);
    }
    this.openElement = element;
  }

  // Appends a fragment of closed lines, in blocks of BLOCK_LINES lines.
  placeLines(fragment) {
    while (fragment.firstChild) {
      const block = this.currentChunk();
      const room = BLOCK_LINES - block.childElementCount;
      for (let i = 0; i < room && fragment.firstChild; i++) block.appendChild(fragment.firstChild);
    }
  }

  currentChunk() {
    if (!this.chunk || this.chunk.childElementCount >= BLOCK_LINES) {
      this.chunk = document.createElement('div');
      this.chunk.className = 'log-block';
      this.container.appendChild(this.chunk);
    }
    return this.chunk;
  }

  // One line: <div class="line" id="L7"><a class="ln" href>7</a><span class="txt">…</span></div>
  buildLine(parsed, closed) {
    const n = this.elements.length + 1;
    const line = document.createElement('div');
    line.className = 'line';
    line.id = 'L' + n;
    // A section's end line belongs to it; its start line is its header.
    const inside = this.sections.map((s) => s.id);
    if (inside.length) line.dataset.s = inside.join(' ');
    for (const marker of parsed.markers) {
      if (!closed) continue;  // Sections take effect when their line is complete.
      if (marker.kind === 'start') {
        const id = this.nextSection++;
        const section = { id, name: marker.name, time: marker.time, header: line };
        line.classList.add('section-header');
        line.dataset.section = id;
        const toggle = document.createElement('button');
        toggle.type = 'button';
        toggle.className = 'section-toggle';
        toggle.setAttribute('aria-expanded', 'true');
        toggle.setAttribute('aria-label', `Collapse section ${marker.name}`);
        toggle.dataset.section = id;
        line.appendChild(toggle);
        this.sections.push(section);
        if (marker.collapsed) this.pendingCollapse = toggle;
      } else {
        const at = this.sections.findIndex((s) => s.name === marker.name);
        if (at >= 0) {
          const [section] = this.sections.splice(at, 1);
          const seconds = marker.time - section.time;
          const duration = document.createElement('span');
          duration.className = 'section-duration';
          duration.textContent = seconds >= 60 ? `${Math.floor(seconds / 60)}m ${seconds % 60}s` : `${seconds}s`;
          section.header.appendChild(duration);
        }
      }
    }
    const number = document.createElement('a');
    number.className = 'ln';
    number.href = this.lineHref(n);
    number.textContent = n;
    number.setAttribute('aria-label', `Line ${n}`);
    line.insertBefore(number, line.firstChild);
    const text = document.createElement('span');
    text.className = 'txt';
    for (const seg of parsed.segments) {
      if (isPlain(seg.style)) {
        text.appendChild(document.createTextNode(seg.text));
      } else {
        const span = document.createElement('span');
        const { cls, css } = styleClasses(seg.style);
        if (cls) span.className = cls;
        if (css) span.style.cssText = css;
        span.textContent = seg.text;
        text.appendChild(span);
      }
    }
    line.appendChild(text);
    this.elements.push(line);
    if (closed && this.pendingCollapse) {
      const toggle = this.pendingCollapse;
      this.pendingCollapse = null;
      if (toggle.parentNode === line) this.toggleSection(toggle);
    }
    return line;
  }

  toggleSection(toggle) {
    const id = toggle.dataset.section;
    const expanded = toggle.getAttribute('aria-expanded') === 'true';
    const sheet = this.sheet.sheet;
    if (expanded) {
      const rule = sheet.insertRule(`.log [data-s~="${id}"]{display:none}`, sheet.cssRules.length);
      this.collapseRules.set(id, sheet.cssRules[rule]);
    } else {
      const rule = this.collapseRules.get(id);
      const index = Array.prototype.indexOf.call(sheet.cssRules, rule);
      if (index >= 0) sheet.deleteRule(index);
      this.collapseRules.delete(id);
    }
    toggle.setAttribute('aria-expanded', String(!expanded));
    const name = toggle.getAttribute('aria-label').replace(/^\S+ section /, '');
    toggle.setAttribute('aria-label', `${expanded ? 'Expand' : 'Collapse'} section ${name}`);
  }

  // Marks line n (1-based) and scrolls to it; a line not received yet is
  // marked when it arrives.
  highlightLine(n) {
    if (this.highlighted) this.highlighted.classList.remove('hl');
    this.highlighted = null;
    this.pendingAnchor = 0;
    if (!n) return;
    const line = this.elements[n - 1];
    if (!line) { this.pendingAnchor = n; return; }
    this.revealLine(line);
    line.classList.add('hl');
    this.highlighted = line;
    this.follow = false;
    this.scrollToLine(line);
  }

  // Centres a line in the log box (without scrolling the page around it).
  scrollToLine(line) {
    this.container.scrollTop = line.offsetTop - this.container.clientHeight / 2;
  }

  // Expands the collapsed sections that hide a line.
  revealLine(line) {
    for (const id of (line.dataset.s || '').split(' ')) {
      if (!this.collapseRules.has(id)) continue;
      const toggle = this.container.querySelector(`button.section-toggle[data-section="${id}"]`);
      if (toggle) this.toggleSection(toggle);
    }
  }

  scrollToEnd() {
    this.follow = true;
    this.container.scrollTop = this.container.scrollHeight;
  }
}

// Search in a LogView: every match highlighted (CSS Custom Highlight API
// where the browser has it, else the matching lines), next/previous.
class LogSearch {
  constructor(view) {
    this.view = view;
    this.query = '';
    this.matches = [];  // {line, start}
    this.current = -1;
    this.limit = 10000;
  }

  // Finds the query in every line; returns the number of matches.
  run(query) {
    this.clear();
    this.query = query.toLowerCase();
    this.current = -1;
    if (this.query) this.scan(0, this.view.lines.length);
    this.paint();
    return this.matches.length;
  }

  // Called when lines [from, to) were added.
  scan(from, to) {
    const q = this.query;
    if (!q) return;
    for (let i = from; i < to && this.matches.length < this.limit; i++) {
      const text = this.view.lines[i].toLowerCase();
      for (let at = text.indexOf(q); at >= 0 && this.matches.length < this.limit; at = text.indexOf(q, at + q.length)) {
        this.matches.push({ line: i, start: at });
      }
    }
  }

  added(from, to) {
    if (!this.query) return;
    const before = this.matches.length;
    this.scan(from, to);
    if (this.matches.length !== before) this.paint();
  }

  clear() {
    for (const m of this.matches) {
      const element = this.view.elements[m.line];
      if (element) element.classList.remove('match', 'match-current');
    }
    this.matches = [];
    if (window.CSS && CSS.highlights) { CSS.highlights.delete('log-search'); CSS.highlights.delete('log-search-current'); }
  }

  rangeOf(match) {
    const text = this.view.elements[match.line].querySelector('.txt');
    const walker = document.createTreeWalker(text, NodeFilter.SHOW_TEXT);
    let offset = 0;
    let start = null;
    const range = document.createRange();
    const end = match.start + this.query.length;
    for (let node; (node = walker.nextNode());) {
      const len = node.data.length;
      if (!start && match.start < offset + len) { range.setStart(node, match.start - offset); start = node; }
      if (start && end <= offset + len) { range.setEnd(node, end - offset); return range; }
      offset += len;
    }
    return null;
  }

  paint() {
    for (const m of this.matches) this.view.elements[m.line].classList.add('match');
    if (!(window.CSS && CSS.highlights && window.Highlight)) return;
    const all = new Highlight();
    for (const m of this.matches) { const r = this.rangeOf(m); if (r) all.add(r); }
    CSS.highlights.set('log-search', all);
  }

  // Moves to the next (step 1) or previous (step -1) match; returns its index.
  move(step) {
    if (!this.matches.length) return -1;
    const old = this.matches[this.current];
    if (old) this.view.elements[old.line].classList.remove('match-current');
    this.current = (this.current + step + this.matches.length) % this.matches.length;
    const m = this.matches[this.current];
    const element = this.view.elements[m.line];
    this.view.revealLine(element);
    element.classList.add('match-current');
    this.view.follow = false;
    this.view.scrollToLine(element);
    if (window.CSS && CSS.highlights && window.Highlight) {
      const r = this.rangeOf(m);
      if (r) CSS.highlights.set('log-search-current', new Highlight(r));
    }
    return this.current;
  }
}

window.SlipwayLog = { LogView, LogSearch, parseLine, applySgr, emptyStyle };
