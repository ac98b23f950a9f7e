// The labelling panel's view. It draws what the kernel sends in `view` and forwards keys
// and clicks; it holds no labels. A key changes the screen only when the kernel answers,
// which it does after the label is committed to SQLite.
// A screen counts as shown once every tile's picture is painted (or the reason it cannot be): until then it stays
// hidden and the keys that label (accept, flip, a class) do nothing, so nobody labels a picture they did not see.
//
// Hand-written (not generated from a notebook); the kernel side and the `view` contract are in nbs/05_panel.ipynb.
// Layout: constants, then pure builders (view -> HTML string), then the panel's state `p` and the functions
// that act on it (keys, messages, drawing, building the next page ahead), then `render`, which wires them up.
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
const SEEING = new Set(['accept', 'flip', 'submit']);  // actions that label what is on screen: only once it is shown
const SLOW_ANSWER = 150;  // ms: a key's screen dims while the kernel takes longer than this to answer
const MIN_ROW = 64;  // px: tiles shrink to fit the window's height down to this; the width always fits

function tileCode(i, cols) { return ROWS[Math.floor(i / cols)][i % cols]; }
function color(v, c) { return c === null || c === undefined ? '#868e96' : COLORS[v.classes.indexOf(c) % COLORS.length]; }
function esc(s) { return String(s).replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[ch])); }
function cols(v) { return v.cols || 8; }
function imageKey(item, size) { return item + ':' + size; }   // the name of one image in `images` messages
function pct(x) { return `${Math.round(100 * x)}%`; }

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

// ---- Builders: a view (and the images the browser has) in, an HTML string out. No state.

function buildTileLabel(t) {
  const changed = t.choice !== t.suggestion;
  const conf = t.confidence === null || changed ? '' : pct(t.confidence);
  return `<span>${t.choice === null ? 'skip' : esc(t.choice)}${changed ? ' ✎' : ''}</span><i>${conf}</i>`;
}

function itemAttrs(t) { return ` data-item="${esc(t.item)}"${t.broken ? ` data-broken="${esc(t.broken)}"` : ''}`; }

function buildTile(v, t, i, urls) {
  const url = urls.get(imageKey(t.item, v.thumb));
  const changed = t.choice !== t.suggestion;
  const img = t.broken ? `<div class="hd-broken">cannot show: ${esc(t.broken)}</div>`
    : url ? `<img src="${url}" data-key="${imageKey(t.item, v.thumb)}" alt="">` : '<div class="hd-broken">loading…</div>';
  return `<div class="hd-tile${changed ? ' hd-changed' : ''}${t.choice === null ? ' hd-skip' : ''}" style="--c:${color(v, t.choice)}"${itemAttrs(t)} data-act="${esc(JSON.stringify({ action: 'flip', i }))}" title="${esc(t.path)}">
      ${img}<span class="hd-cap">${CAP(tileCode(i, cols(v)))}</span>
      <span class="hd-lab">${buildTileLabel(t)}</span></div>`;
}

function buildGrid(v, urls) {
  return `<div class="hd-grid" style="grid-template-columns:repeat(${cols(v)}, var(--hd-tile))">${v.tiles.map((t, i) => buildTile(v, t, i, urls)).join('')}</div>`;
}

function buildSuggestion(v, t) {
  if (t.suggestion === null) return 'no suggestion yet';
  return `model says <b style="color:${color(v, t.suggestion)}">${esc(t.suggestion)}</b>${t.confidence === null ? '' : ` (${pct(t.confidence)})`}`;
}

function buildClassButtons(v, t) {
  return v.classes.map((c, j) => `<button class="hd-btn" style="--c:${color(v, c)}" data-act="${esc(JSON.stringify({ action: 'submit', label: c }))}">
      <kbd>${CAP(CLASS_CODES[j] || '')}</kbd> ${esc(c)}${c === t.choice && v.revisit ? ' ✓' : ''}</button>`).join('');
}

function buildSingle(v, urls) {
  const t = v.tiles[0], url = urls.get(imageKey(t.item, v.big));
  const img = t.broken ? `<div class="hd-broken hd-big">cannot show: ${esc(t.broken)}<br>press S to skip</div>`
    : url ? `<img class="hd-big" src="${url}" data-key="${imageKey(t.item, v.big)}" alt="">` : '<div class="hd-broken hd-big">loading…</div>';
  return `<div class="hd-single"${itemAttrs(t)}>${img}<div class="hd-side"><div class="hd-name">${esc(t.path.split('/').pop())}</div>
      <div class="hd-sugg">${buildSuggestion(v, t)}</div><div class="hd-btns">${buildClassButtons(v, t)}</div>
      <button class="hd-btn hd-ghost" data-act='{"action":"accept"}'><kbd>Enter</kbd> accept suggestion</button>
      <button class="hd-btn hd-ghost" data-act='{"action":"skip"}'><kbd>S</kbd> skip</button></div></div>`;
}

function buildLegend(v) {
  const classes = v.classes.map((c) => `<span class="hd-sw" style="--c:${color(v, c)}"></span>${esc(c)}`).join(' ');
  const keys = v.mode === 'grid'
    ? '<kbd>tile key</kbd>/click flip · <kbd>⇧</kbd>+key skip · <kbd>Enter</kbd> accept page · <kbd>⌫</kbd> undo · <kbd>←</kbd><kbd>→</kbd> pages · <kbd>`</kbd> one at a time'
    : '<kbd>1</kbd>…<kbd>9</kbd> class · <kbd>Enter</kbd> accept · <kbd>S</kbd> skip · <kbd>⌫</kbd> undo · <kbd>←</kbd><kbd>→</kbd> back/forward · <kbd>`</kbd> grid';
  return `<div class="hd-legend">${classes}<span class="hd-keys">${keys}</span></div>`;
}

function buildStatus(v, stats) {
  const s = stats || {};
  const done = v.total ? (100 * v.done / v.total) : 0;
  const fmt = (x, d) => (typeof x === 'number' && Number.isFinite(x)) ? x.toFixed(d) : '–';
  return `<div class="hd-status"><b>${v.review ? 'review' : v.mode}${v.auto ? ' (auto)' : ''}</b>
      <span>${v.done} / ${v.total} labelled</span><span>${s.active_min > 0.25 ? fmt(s.labels_per_min, 1) : '–'} labels/min</span>
      <span>${typeof s.acceptance_rate === 'number' ? pct(s.acceptance_rate) : '–'} accepted</span>
      <span>model ${esc(v.model || 'none yet')}${v.fitting ? ' (refitting…)' : ''}</span>
      ${v.revisit ? '<span class="hd-rev">going back: a new label replaces the old one</span>' : ''}
      <div class="hd-bar"><div style="width:${done}%"></div></div></div>`;
}

function buildBody(v, urls) {
  if (!v.tiles.length) return '<div class="hd-done">All done: nothing left to label here. 🎉</div>';
  return v.mode === 'grid' ? buildGrid(v, urls) : buildSingle(v, urls);
}

function buildScreen(v, urls, stats) {
  const err = v.error ? `<div class="hd-err">${esc(v.error)}</div>` : '';
  return buildStatus(v, stats) + err + buildBody(v, urls) + buildLegend(v) + `<div class="hd-hint${v.hint ? ' on' : ''}">${esc(v.hint || '')}</div>`;
}

// ---- The panel's state: one `p` per view of the widget (a notebook can show the same widget twice).

function newPanel(model, el) {
  const root = document.createElement('div');
  root.className = 'hotdog-panel'; root.tabIndex = 0;
  el.appendChild(root);
  return {
    model, root,
    urls: new Map(),        // item hash + size -> object URL of its JPEG
    decoded: new Map(),     // item hash + size -> an <img> already decoded, reused on screen
    queue: [],              // keys pressed while the kernel is still answering
    pending: null,          // the action the kernel is answering, with the time its key was pressed
    hintTimer: null,
    savingTimer: null,      // dims the screen when an answer is slow
    prebuilt: null,         // the next grid page, built off-screen: {key, el}
    drawn: '',              // what the screen shows, to tell a new page from flipped tiles
    shown: false,           // every picture of the screen is painted: the labelling keys work
    gen: 0,                 // counts screens drawn, so a late check of an old screen changes nothing
    waiters: [],            // called in the frame that paints the screen, once it is shown
    shape: '',              // columns, rows and sizes the tile side was fitted for
    how: '',                // how the last screen was drawn: 'patched', 'built ahead' or 'built now' (for the benchmarks)
  };
}

function showHint(p, text) {
  const h = p.root.querySelector('.hd-hint'); if (!h) return;
  h.textContent = text; h.classList.add('on');
  clearTimeout(p.hintTimer); p.hintTimer = setTimeout(() => h.classList.remove('on'), 2500);
}

function onScreen(p) { return [...p.root.querySelectorAll('[data-item]')].map((d) => d.dataset.item).join(','); }

function send(p, act) {
  const v = p.model.get('view');
  p.pending = { ...act, t0: performance.now(), mode: v.mode, fitting: !!v.fitting };
  // Dimmed only if the answer is slow: a class added at every key restyles the whole screen twice per key.
  clearTimeout(p.savingTimer); p.savingTimer = setTimeout(() => p.root.classList.add('hd-saving'), SLOW_ANSWER);
  const msg = { type: 'act', ...act, seq: (v.seq || 0) };
  delete msg.page;
  // Accept names the page as painted, item by item with its choice: the kernel writes nothing if its page differs.
  if (act.action === 'accept') msg.shown = v.tiles.map((t) => [t.item, t.choice]);
  p.model.send(msg);
}

function refused(p, act) {
  // Why a labelling key cannot act now, or null when it can.
  if (!SEEING.has(act.action)) return null;
  if (!p.shown) return 'wait: the pictures are still loading';
  if (act.page !== onScreen(p)) return 'a key pressed on the previous screen was dropped: look at this one first';
  if (act.action === 'flip') {
    const d = p.root.querySelectorAll('.hd-tile')[act.i];
    if (d && d.dataset.broken !== undefined) return `this picture cannot be shown (${d.dataset.broken}): it is skipped`;
  }
  const one = p.root.querySelector('.hd-single');
  if (act.action === 'submit' && one && one.dataset.broken !== undefined) return `this image cannot be shown (${one.dataset.broken}): press S to skip it`;
  return null;
}

function sendNext(p) {
  // Send the oldest waiting key that still applies to the screen; drop the others with a hint.
  while (!p.pending && p.queue.length) {
    const act = p.queue.shift(), why = refused(p, act);
    if (why) showHint(p, why); else send(p, act);
  }
}

function request(p, act) {
  act.page = onScreen(p);  // the screen the key was meant for
  if (p.pending) { p.queue.push(act); return; }
  const why = refused(p, act);
  if (why) showHint(p, why); else send(p, act);
}

function keyHandler(p) {
  return (e) => {
    const v = p.model.get('view');
    const act = actionFor(e, v, cols(v));
    if (act === null) return;
    e.preventDefault(); e.stopPropagation();   // the key is the panel's: JupyterLab must not see `b`, `a`, Enter...
    if (act === undefined) { showHint(p, `"${e.key}" does nothing here: the keys are listed below`); return; }
    request(p, act);
  };
}

function clickHandler(p) {
  return (e) => {
    const t = e.target.closest('[data-act]'); if (!t) return;
    p.root.focus();
    const a = JSON.parse(t.dataset.act);
    if (a.action === 'flip') a.skip = e.shiftKey;
    request(p, a);
  };
}

// ---- Images: JPEG bytes from the kernel, decoded before they are needed.

function addImage(p, key, buffer) {
  const url = URL.createObjectURL(new Blob([buffer], { type: 'image/jpeg' }));
  p.urls.set(key, url);
  const im = new Image();
  // Bytes the browser cannot decode are reported like any other action: the kernel marks the tile broken.
  im.onerror = () => { if (p.urls.get(key) === url) request(p, { action: 'broken', item: key.split(':')[0], reason: 'the browser cannot decode it' }); };
  im.src = url; im.alt = ''; im.decode().catch(() => {});   // decoded before it is needed
  p.decoded.set(key, im);
}

function forgetOldImages(p) {
  // Keep the newest KEEP images; the kernel is told, so it sends them again if they come back on screen.
  const old = [...p.urls.keys()].slice(0, Math.max(0, p.urls.size - KEEP));
  old.forEach((k) => { URL.revokeObjectURL(p.urls.get(k)); p.urls.delete(k); p.decoded.delete(k); });
  if (old.length) p.model.send({ type: 'forget', items: old });
}

function onImages(p, msg, buffers) {
  if (msg.type !== 'images') return;
  msg.items.forEach((key, j) => { if (!p.urls.has(key)) addImage(p, key, buffers[j]); });
  forgetOldImages(p);
  if (screenKey(p, p.model.get('view')) !== p.drawn) draw(p);   // pictures the screen was waiting for
  setTimeout(() => prebuild(p), 0);
}

function useDecoded(p, scope) {
  // Put the pre-decoded <img> elements in place of fresh ones: no decoding on the key's path. An element already in
  // the document (on screen, or in the page built ahead) stays where it is: taking it would blank that tile.
  scope.querySelectorAll('img[data-key]').forEach((im) => {
    const ready = p.decoded.get(im.dataset.key);
    if (ready && ready !== im && !ready.isConnected && !(p.prebuilt && p.prebuilt.el.contains(ready))) {
      ready.className = im.className; ready.dataset.key = im.dataset.key; im.replaceWith(ready);
    }
  });
}

// ---- Drawing a view.

// A page built ahead is the same page as a view when it has the same items, broken ones and columns. A refit between
// the two may have changed the suggestions and so the tiles' order (a page is sorted by them): the tiles are put in
// the view's order before the swap and its choices patched in after it; the pictures stay.
function pageKey(tiles, c) { return c + '|' + tiles.map((t) => `${t.item}${t.broken ? '!' : ''}`).sort().join(','); }

function orderTiles(el, v) {
  // The tiles of a page built ahead (not in the document) in the view's order, each with its index's key and action.
  const by = new Map([...el.children].map((d) => [d.dataset.item, d]));
  v.tiles.forEach((t, i) => {
    const d = by.get(t.item);
    d.dataset.act = JSON.stringify({ action: 'flip', i }); d.title = t.path;
    d.querySelector('.hd-cap').textContent = CAP(tileCode(i, cols(v)));
    el.appendChild(d);
  });
}

function prebuild(p) {
  // The next grid page, built (and its images put in) while the annotator looks at this one.
  const v = p.model.get('view'), ahead = p.model.get('ahead');
  if (!v || (v.ahead_mode || v.mode) !== 'grid' || !ahead || !ahead.length) return;
  // Until the kernel's next page arrives, `ahead` may still be the page on screen: never build that one again.
  const here = new Set(v.tiles.map((t) => t.item));
  if (ahead.some((t) => here.has(t.item))) return;
  if (!ahead.every((t) => t.broken || p.urls.has(imageKey(t.item, v.thumb)))) return;
  const key = pageKey(ahead, cols(v));
  if (p.prebuilt && p.prebuilt.key === key) return;
  const holder = document.createElement('div');
  holder.innerHTML = buildGrid({ ...v, tiles: ahead }, p.urls);
  release(p.prebuilt);
  useDecoded(p, holder);
  p.prebuilt = { key, el: holder.firstElementChild };
}

function redrawStatus(p, v) { p.root.querySelector('.hd-status').outerHTML = buildStatus(v, p.model.get('stats')); }

function patchTiles(p, v) {
  // Same page, some tiles flipped: change those tiles' colour and label only, keeping the decoded images.
  const els = p.root.querySelectorAll('.hd-tile');
  v.tiles.forEach((t, i) => {
    const d = els[i];
    d.style.setProperty('--c', color(v, t.choice));
    d.classList.toggle('hd-changed', t.choice !== t.suggestion); d.classList.toggle('hd-skip', t.choice === null);
    d.querySelector('.hd-lab').innerHTML = buildTileLabel(t);
  });
  redrawStatus(p, v);
}

function release(pre) {
  // A page built ahead that will not be shown gives its decoded images back (useDecoded never takes one from it).
  if (pre) pre.el.querySelectorAll('img').forEach((im) => im.remove());
}

function swapPrebuilt(p, v) {
  // The page was ready: swap it in. False when it was not.
  const grid = p.root.querySelector('.hd-grid'), pre = p.prebuilt;
  p.prebuilt = null;
  if (!(v.mode === 'grid' && grid && pre && pre.key === pageKey(v.tiles, cols(v)))) { release(pre); return false; }
  orderTiles(pre.el, v);
  grid.replaceWith(pre.el);
  patchTiles(p, v);   // the view's choices and confidences (and the status line)
  return true;
}

// ---- Fitting the grid: the panel measures its own width (and the height of what scrolls it), never assumes one.

function scroller(el) {
  // The outermost ancestor that scrolls vertically (a notebook's window in JupyterLab), or null for the page itself.
  // Not the nearest: an output area may say `overflow: auto` and still grow with its content.
  let found = null;
  for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
    const o = getComputedStyle(a).overflowY;
    if ((o === 'auto' || o === 'scroll') && a.clientHeight > 0) found = a;
  }
  return found;
}

function fitTiles(p, measured) {
  // Tile side: the whole grid within the panel's width (always) and within the visible height (down to MIN_ROW).
  // Measured again when a size changed (`measured`) or the grid's shape did; otherwise a new page reads no layout.
  const v = p.model.get('view'), grid = p.root.querySelector('.hd-grid');
  if (!v || v.mode !== 'grid' || !grid || !v.tiles.length) return;
  const c = cols(v), rows = Math.ceil(v.tiles.length / c), gap = 6;
  const shape = `${c}x${rows}:${v.tile_px}`;
  if (!measured && shape === p.shape) return;
  p.shape = shape;
  const cs = getComputedStyle(p.root);
  const inner = p.root.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
  const byWidth = Math.floor((inner - gap * (c - 1)) / c);
  const sc = scroller(p.root), high = Math.min(window.innerHeight, sc ? sc.clientHeight : Infinity);
  const chrome = p.root.offsetHeight - grid.offsetHeight + 8;   // status, legend, padding and borders
  const byHeight = Math.floor((high - chrome - gap * (rows - 1)) / rows);
  const side = Math.max(1, Math.min(v.tile_px || 160, byWidth, Math.max(MIN_ROW, byHeight)));
  p.root.style.setProperty('--hd-tile', side + 'px');
  p.root.dataset.tile = String(side);
  p.root.classList.toggle('hd-small', side < 90);   // no room for the confidence beside the class
}

function watchSize(p) {
  // Refit when the panel's width or the height of what scrolls it changes (a side bar opens, the window resizes).
  const ro = new ResizeObserver(() => fitTiles(p, true));
  ro.observe(p.root);
  const sc = scroller(p.root); if (sc) ro.observe(sc);
  return ro;
}

// ---- A screen is shown once every tile's picture is painted.

function painted(im) { return !!im && im.isConnected && im.complete && im.naturalWidth > 0; }

function allPainted(p) {
  // Every tile on screen shows its picture, or the reason it cannot.
  const v = p.model.get('view');
  if (!v || !v.tiles || !v.tiles.length) return true;
  const els = [...p.root.querySelectorAll('[data-item]')];
  return els.length === v.tiles.length && els.every((d) => d.dataset.broken !== undefined || painted(d.querySelector('img')));
}

function setShown(p) {
  p.shown = true; p.root.classList.remove('hd-wait');
  p.root.dataset.shown = onScreen(p);
  const w = p.waiters; p.waiters = [];
  if (w.length) requestAnimationFrame(() => w.forEach((f) => f()));   // the frame that paints it
}

function checkShown(p, retried) {
  // Called after each new screen: show it now if every picture is there, else hide it until they are decoded.
  const gen = ++p.gen;
  if (allPainted(p)) { setShown(p); return; }
  p.shown = false; p.root.classList.add('hd-wait');
  const imgs = [...p.root.querySelectorAll('[data-item] img')].map((im) => im.decode().catch(() => {}));
  Promise.all(imgs).then(() => {
    if (gen !== p.gen) return;                 // another screen since
    if (allPainted(p)) { setShown(p); return; }
    // A picture is missing though its bytes are here (an element taken elsewhere): draw the screen afresh.
    const v = p.model.get('view'), size = v.mode === 'grid' ? v.thumb : v.big;
    if (!retried && v.tiles.every((t) => t.broken || p.urls.has(imageKey(t.item, size)))) drawScreen(p, v, true);
  });                                          // else the missing bytes come in an `images` message, which redraws
}

function whenShown(p) { return new Promise((r) => { if (p.shown) requestAnimationFrame(() => r()); else p.waiters.push(r); }); }

function drawScreen(p, v, retried) {
  p.root.innerHTML = buildScreen(v, p.urls, p.model.get('stats'));
  fitTiles(p);
  useDecoded(p, p.root);
  if (v.hint) showHint(p, v.hint);
  checkShown(p, retried);
}

function screenKey(p, v) {
  // The items on screen and whether each image is there ('' yes, '?' not yet, '!' broken).
  if (!v || !v.tiles) return '';
  const size = v.mode === 'grid' ? v.thumb : v.big;
  const have = (t) => (t.broken ? '!' : p.urls.has(imageKey(t.item, size)) ? '' : '?');
  return v.mode + '|' + v.tiles.map((t) => t.item + have(t)).join(',');
}

function draw(p) {
  const v = p.model.get('view');
  const page = screenKey(p, v), plain = v && !v.hint && !v.error;
  if (plain && v.mode === 'grid' && page && page === p.drawn) { p.how = 'patched'; patchTiles(p, v); return; }
  p.drawn = page;
  if (plain && swapPrebuilt(p, v)) { p.how = 'built ahead'; fitTiles(p); checkShown(p); return; }
  if (!v || !v.classes) { p.root.innerHTML = '<div class="hd-status">starting…</div>'; return; }
  p.how = 'built now'; drawScreen(p, v);
}

function measure(p, tView, tDrawn, answer) {
  // Key -> next screen shown (every picture painted), and its phases: the benchmarks and browser tests read these.
  const { t0, action, mode, fitting } = p.pending, how = p.how;
  p.pending = null; clearTimeout(p.savingTimer); p.root.classList.remove('hd-saving');
  whenShown(p).then(() => {
    const t = performance.now();
    window.hotdogLatencies.push(t - t0);
    window.hotdogPhases.push({ kernel: tView - t0, draw: tDrawn - tView, paint: t - tDrawn, action, mode, fitting: fitting || !!answer.fitting,
      how, tiles: answer.tiles ? answer.tiles.length : 0, at: t0 });
    p.root.dataset.answered = String(answer.seq);
  });
}

function onView(p) {
  const tView = performance.now();
  draw(p);
  if (p.pending) measure(p, tView, performance.now(), p.model.get('view'));
  sendNext(p);
  setTimeout(() => prebuild(p), 30);   // after this screen is painted
}

function onStats(p) {
  const v = p.model.get('view'), s = p.root.querySelector('.hd-status');
  if (s && v && v.classes) s.outerHTML = buildStatus(v, p.model.get('stats'));
}

function render({ model, el }) {
  window.hotdogLatencies = window.hotdogLatencies || []; window.hotdogPhases = window.hotdogPhases || [];
  const p = newPanel(model, el);
  model.on('msg:custom', (msg, buffers) => onImages(p, msg, buffers));
  p.root.addEventListener('keydown', keyHandler(p));
  p.root.addEventListener('click', clickHandler(p));
  model.on('change:view', () => onView(p));
  model.on('change:ahead', () => setTimeout(() => prebuild(p), 30));
  model.on('change:stats', () => onStats(p));
  p.root.addEventListener('focus', () => p.root.classList.remove('hd-blur'));
  p.root.addEventListener('blur', () => p.root.classList.add('hd-blur'));
  draw(p);
  const ro = watchSize(p);
  model.send({ type: 'hello' });           // a new view asks for the images of what is on screen
  setTimeout(() => p.root.focus(), 0);
  return () => { ro.disconnect(); p.urls.forEach((u) => URL.revokeObjectURL(u)); p.decoded.clear(); };
}
export default { render };
