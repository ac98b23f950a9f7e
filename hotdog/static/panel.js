// The labelling panel's view. It draws what the kernel sends in `view` and forwards keys
// and clicks; it holds no labels. A key changes the screen only when the kernel answers,
// which it does after the label is committed to SQLite.
const ROWS = [
  ['Digit1', 'Digit2', 'Digit3', 'Digit4', 'Digit5', 'Digit6', 'Digit7', 'Digit8', 'Digit9', 'Digit0'],
  ['KeyQ', 'KeyW', 'KeyE', 'KeyR', 'KeyT', 'KeyY', 'KeyU', 'KeyI', 'KeyO', 'KeyP'],
  ['KeyA', 'KeyS', 'KeyD', 'KeyF', 'KeyG', 'KeyH', 'KeyJ', 'KeyK', 'KeyL', 'Semicolon'],
  ['KeyZ', 'KeyX', 'KeyC', 'KeyV', 'KeyB', 'KeyN', 'KeyM', 'Comma', 'Period', 'Slash'],
];
const CAP = (code) => ({ Semicolon: ';', Comma: ',', Period: '.', Slash: '/' }[code] || code.replace(/^(Digit|Key)/, '').toLowerCase());
const COLORS = ['#d9480f', '#1c7ed6', '#2b8a3e', '#862e9c', '#e67700', '#0b7285', '#c2255c', '#5c940d', '#364fc7', '#495057'];
// Single mode: classes on 1-9 then letters that no other action uses.
const CLASS_CODES = ['Digit1', 'Digit2', 'Digit3', 'Digit4', 'Digit5', 'Digit6', 'Digit7', 'Digit8', 'Digit9',
  'KeyQ', 'KeyW', 'KeyE', 'KeyR', 'KeyT', 'KeyY', 'KeyU', 'KeyI', 'KeyO', 'KeyP'];

const KEEP = 400;  // images kept in the browser (a few pages each way)

function tileCode(i, cols) { return ROWS[Math.floor(i / cols)][i % cols]; }
function color(v, c) { return c === null || c === undefined ? '#868e96' : COLORS[v.classes.indexOf(c) % COLORS.length]; }
function esc(s) { return String(s).replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[ch])); }

function actionFor(e, v, cols) {
  if (e.ctrlKey || e.metaKey || e.altKey) return null;         // leave shortcuts to the browser and JupyterLab
  const k = e.key, code = e.code;
  if (k === 'Enter' || k === ' ') return { action: 'accept' };
  if (k === 'Backspace') return { action: 'undo' };
  if (k === 'ArrowLeft') return { action: 'back' };
  if (k === 'ArrowRight') return { action: 'forward' };
  if (code === 'Backquote') return { action: 'mode', mode: v.mode === 'grid' ? 'single' : 'grid' };
  if (v.mode === 'grid') {
    for (let i = 0; i < v.tiles.length; i++) if (tileCode(i, cols) === code) return { action: 'flip', i, skip: e.shiftKey };
    return undefined;
  }
  if (code === 'KeyS') return { action: 'skip' };
  const c = CLASS_CODES.indexOf(code);
  if (c >= 0 && c < v.classes.length) return { action: 'submit', label: v.classes[c] };
  return undefined;
}

function render({ model, el }) {
  const urls = new Map();                 // item hash + size -> object URL of its JPEG
  const decoded = new Map();              // item hash + size -> an <img> already decoded, reused on screen
  const queue = [];                       // keys pressed while the kernel is still answering
  let pending = null, hintTimer = null;
  window.hotdogLatencies = window.hotdogLatencies || []; window.hotdogPhases = window.hotdogPhases || [];
  const root = document.createElement('div');
  root.className = 'hotdog-panel'; root.tabIndex = 0;
  el.appendChild(root);

  model.on('msg:custom', (msg, buffers) => {
    if (msg.type !== 'images') return;
    msg.items.forEach((key, j) => {
      if (urls.has(key)) return;
      const url = URL.createObjectURL(new Blob([buffers[j]], { type: 'image/jpeg' }));
      urls.set(key, url);
      const im = new Image(); im.src = url; im.alt = ''; im.decode().catch(() => {});   // decoded before it is needed
      decoded.set(key, im);
    });
    // Keep the newest KEEP images; the kernel is told, so it sends them again if they come back on screen.
    const old = [...urls.keys()].slice(0, Math.max(0, urls.size - KEEP));
    old.forEach((k) => { URL.revokeObjectURL(urls.get(k)); urls.delete(k); decoded.delete(k); });
    if (old.length) model.send({ type: 'forget', items: old });
    setTimeout(prebuild, 0);
  });

  function cols(v) { return v.cols || 8; }
  function hint(text) {
    const h = root.querySelector('.hd-hint'); if (!h) return;
    h.textContent = text; h.classList.add('on');
    clearTimeout(hintTimer); hintTimer = setTimeout(() => h.classList.remove('on'), 2500);
  }
  function send(act) {
    pending = { ...act, t0: performance.now() };
    root.classList.add('hd-saving');
    model.send({ type: 'act', ...act, seq: (model.get('view').seq || 0) });
  }
  function request(act) { if (pending) queue.push(act); else send(act); }

  root.addEventListener('keydown', (e) => {
    const v = model.get('view');
    const act = actionFor(e, v, cols(v));
    if (act === null) return;
    e.preventDefault(); e.stopPropagation();   // the key is the panel's: JupyterLab must not see `b`, `a`, Enter...
    if (act === undefined) { hint(`"${e.key}" does nothing here: the keys are listed below`); return; }
    request(act);
  });
  root.addEventListener('click', (e) => {
    const t = e.target.closest('[data-act]'); if (!t) return;
    root.focus();
    const a = JSON.parse(t.dataset.act);
    if (a.action === 'flip') a.skip = e.shiftKey;
    request(a);
  });

  function tileHtml(v, t, i) {
    const key = urls.get(t.item + ':' + v.thumb);
    const c = color(v, t.choice), changed = t.choice !== t.suggestion;
    const conf = t.confidence === null ? '' : `${Math.round(100 * t.confidence)}%`;
    const img = t.broken ? `<div class="hd-broken">cannot show: ${esc(t.broken)}</div>`
      : key ? `<img src="${key}" data-key="${t.item}:${v.thumb}" alt="">` : '<div class="hd-broken">loading…</div>';
    return `<div class="hd-tile${changed ? ' hd-changed' : ''}${t.choice === null ? ' hd-skip' : ''}" style="--c:${c}" data-act="${esc(JSON.stringify({ action: 'flip', i }))}" title="${esc(t.path)}">
      ${img}<span class="hd-cap">${CAP(tileCode(i, cols(v)))}</span>
      <span class="hd-lab">${t.choice === null ? 'skip' : esc(t.choice)}${changed ? ' ✎' : ''}<i>${changed ? '' : conf}</i></span></div>`;
  }
  function gridHtml(v) {
    return `<div class="hd-grid" style="grid-template-columns:repeat(${cols(v)}, var(--hd-tile))">${v.tiles.map((t, i) => tileHtml(v, t, i)).join('')}</div>`;
  }
  function singleHtml(v) {
    const t = v.tiles[0], key = urls.get(t.item + ':' + v.big);
    const img = t.broken ? `<div class="hd-broken hd-big">cannot show: ${esc(t.broken)}<br>press S to skip</div>`
      : key ? `<img class="hd-big" src="${key}" data-key="${t.item}:${v.big}" alt="">` : '<div class="hd-broken hd-big">loading…</div>';
    const sugg = t.suggestion === null ? 'no suggestion yet'
      : `model says <b style="color:${color(v, t.suggestion)}">${esc(t.suggestion)}</b>${t.confidence === null ? '' : ` (${Math.round(100 * t.confidence)}%)`}`;
    const buttons = v.classes.map((c, j) => `<button class="hd-btn" style="--c:${color(v, c)}" data-act="${esc(JSON.stringify({ action: 'submit', label: c }))}">
      <kbd>${CAP(CLASS_CODES[j] || '')}</kbd> ${esc(c)}${c === t.choice && v.revisit ? ' ✓' : ''}</button>`).join('');
    return `<div class="hd-single">${img}<div class="hd-side"><div class="hd-name">${esc(t.path.split('/').pop())}</div>
      <div class="hd-sugg">${sugg}</div><div class="hd-btns">${buttons}</div>
      <button class="hd-btn hd-ghost" data-act='{"action":"accept"}'><kbd>Enter</kbd> accept suggestion</button>
      <button class="hd-btn hd-ghost" data-act='{"action":"skip"}'><kbd>S</kbd> skip</button></div></div>`;
  }
  function legendHtml(v) {
    const classes = v.classes.map((c) => `<span class="hd-sw" style="--c:${color(v, c)}"></span>${esc(c)}`).join(' ');
    const keys = v.mode === 'grid'
      ? '<kbd>tile key</kbd>/click flip · <kbd>⇧</kbd>+key skip · <kbd>Enter</kbd> accept page · <kbd>⌫</kbd> undo · <kbd>←</kbd><kbd>→</kbd> pages · <kbd>`</kbd> one at a time'
      : '<kbd>1</kbd>…<kbd>9</kbd> class · <kbd>Enter</kbd> accept · <kbd>S</kbd> skip · <kbd>⌫</kbd> undo · <kbd>←</kbd><kbd>→</kbd> back/forward · <kbd>`</kbd> grid';
    return `<div class="hd-legend">${classes}<span class="hd-keys">${keys}</span></div>`;
  }
  function statusHtml(v) {
    const s = model.get('stats') || {};
    const pct = v.total ? (100 * v.done / v.total) : 0;
    const fmt = (x, d) => (typeof x === 'number' && Number.isFinite(x)) ? x.toFixed(d) : '–';
    return `<div class="hd-status"><b>${v.review ? 'review' : v.mode}</b>
      <span>${v.done} / ${v.total} labelled</span><span>${s.active_min > 0.25 ? fmt(s.labels_per_min, 1) : '–'} labels/min</span>
      <span>${typeof s.acceptance_rate === 'number' ? Math.round(100 * s.acceptance_rate) + '%' : '–'} accepted</span>
      <span>model ${esc(v.model || 'none yet')}${v.fitting ? ' (refitting…)' : ''}</span>
      ${v.revisit ? '<span class="hd-rev">going back: a new label replaces the old one</span>' : ''}
      <div class="hd-bar"><div style="width:${pct}%"></div></div></div>`;
  }
  function patchTiles(v) {
    // Same page, some tiles flipped: change those tiles' colour and label only, keeping the decoded images.
    const els = root.querySelectorAll('.hd-tile');
    v.tiles.forEach((t, i) => {
      const d = els[i], c = color(v, t.choice), changed = t.choice !== t.suggestion;
      d.style.setProperty('--c', c);
      d.classList.toggle('hd-changed', changed); d.classList.toggle('hd-skip', t.choice === null);
      const conf = t.confidence === null || changed ? '' : `${Math.round(100 * t.confidence)}%`;
      d.querySelector('.hd-lab').innerHTML = `${t.choice === null ? 'skip' : esc(t.choice)}${changed ? ' ✎' : ''}<i>${conf}</i>`;
    });
    root.querySelector('.hd-status').outerHTML = statusHtml(v);
  }
  function useDecoded(scope) {
    // Put the pre-decoded <img> elements in place of fresh ones: no decoding on the key's path.
    scope.querySelectorAll('img[data-key]').forEach((im) => {
      const ready = decoded.get(im.dataset.key);
      if (ready && ready !== im) { ready.className = im.className; ready.dataset.key = im.dataset.key; im.replaceWith(ready); }
    });
  }
  // The next grid page, built (and its images put in) while the annotator looks at this one.
  let prebuilt = null;
  const pageKey = (tiles) => tiles.map((t) => `${t.item}=${t.choice}${t.broken ? '!' : ''}`).join(',');
  function prebuild() {
    const v = model.get('view'), ahead = model.get('ahead');
    if (!v || v.mode !== 'grid' || !ahead || !ahead.length) return;
    if (!ahead.every((t) => t.broken || urls.has(t.item + ':' + v.thumb))) return;
    const key = pageKey(ahead);
    if (prebuilt && prebuilt.key === key) return;
    const holder = document.createElement('div');
    holder.innerHTML = gridHtml({ ...v, tiles: ahead });
    useDecoded(holder);
    prebuilt = { key, el: holder.firstElementChild };
  }
  let drawn = '';
  function draw() {
    const v = model.get('view');
    const have = (t) => (t.broken ? '!' : urls.has(t.item + ':' + (v.mode === 'grid' ? v.thumb : v.big)) ? '' : '?');
    const page = v && v.tiles ? v.mode + '|' + v.tiles.map((t) => t.item + have(t)).join(',') : '';
    if (v && v.mode === 'grid' && page && page === drawn && !v.hint && !v.error) { patchTiles(v); return; }
    drawn = page;
    const grid = root.querySelector('.hd-grid');
    if (v && v.mode === 'grid' && grid && prebuilt && prebuilt.key === pageKey(v.tiles) && !v.hint && !v.error) {
      grid.replaceWith(prebuilt.el); prebuilt = null;           // the page was ready: swap it in
      root.querySelector('.hd-status').outerHTML = statusHtml(v);
      return;
    }
    if (!v || !v.classes) { root.innerHTML = '<div class="hd-status">starting…</div>'; return; }
    const body = !v.tiles.length ? '<div class="hd-done">All done: nothing left to label here. 🎉</div>'
      : v.mode === 'grid' ? gridHtml(v) : singleHtml(v);
    const err = v.error ? `<div class="hd-err">${esc(v.error)}</div>` : '';
    root.innerHTML = statusHtml(v) + err + body + legendHtml(v) + `<div class="hd-hint${v.hint ? ' on' : ''}">${esc(v.hint || '')}</div>`;
    // Tiles as large as the notebook's width allows (up to the kernel's size), never under 96 px.
    const fit = Math.floor((root.clientWidth - 24 - 6 * (cols(v) - 1)) / cols(v));
    root.style.setProperty('--hd-tile', Math.max(96, Math.min(v.tile_px || 160, fit || 160)) + 'px');
    useDecoded(root);
    if (v.hint) hint(v.hint);
  }
  function settled() {
    // The screen is ready when its images are decoded and a frame is painted.
    const imgs = [...root.querySelectorAll('img')].filter((im) => !im.complete).map((im) => im.decode().catch(() => {}));
    return Promise.all(imgs).then(() => new Promise((r) => requestAnimationFrame(() => r())));
  }
  model.on('change:view', () => {
    const tView = performance.now();
    draw();
    if (pending) {
      const t0 = pending.t0, action = pending.action, tDrawn = performance.now(); pending = null; root.classList.remove('hd-saving');
      settled().then(() => {
        const t = performance.now();
        window.hotdogLatencies.push(t - t0);   // key -> next screen painted
        window.hotdogPhases.push({ kernel: tView - t0, draw: tDrawn - tView, paint: t - tDrawn, action });
        root.dataset.answered = String(model.get('view').seq);
      });
    }
    if (queue.length) send(queue.shift());
    setTimeout(prebuild, 30);   // after this screen is painted
  });
  model.on('change:ahead', () => setTimeout(prebuild, 30));
  model.on('change:stats', () => {
    const v = model.get('view'); const s = root.querySelector('.hd-status');
    if (s && v && v.classes) s.outerHTML = statusHtml(v);
  });
  root.addEventListener('focus', () => root.classList.remove('hd-blur'));
  root.addEventListener('blur', () => root.classList.add('hd-blur'));
  draw();
  model.send({ type: 'hello' });           // a new view asks for the images of what is on screen
  setTimeout(() => root.focus(), 0);
  return () => { urls.forEach((u) => URL.revokeObjectURL(u)); decoded.clear(); };
}
export default { render };
