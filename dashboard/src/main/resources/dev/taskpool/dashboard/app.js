// taskpool dashboard: plain JavaScript, no libraries. Everything shown is put in the page as text
// (text nodes and textContent only, never parsed as HTML): task args and results are user data.
'use strict';

const STATUSES = ['WAITING', 'RUNNING', 'SUCCESS', 'FAILURE'];
const view = document.getElementById('view');
const live = document.getElementById('live');
const flash = document.getElementById('flash');
let config = { readOnly: false, tokenRequired: false };
let current = null;       // the page shown: {render, onEvent, dispose}
let stream = null;        // its EventSource
// Moved on by each route(): a page left behind (a fetch or a throttled refresh still pending) draws nothing.
let shown = 0;

// ---- DOM helpers ------------------------------------------------------------------------------
function h(tag, attrs, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'onclick') element.addEventListener('click', value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}
function link(href, text, attrs) { return h('a', Object.assign({ href }, attrs || {}), text); }
function kindHref(task, status) { return '#/kind/' + encodeURIComponent(task) + (status ? '?status=' + status.toLowerCase() : ''); }
function taskHref(task, id) { return '#/task/' + encodeURIComponent(task) + '/' + encodeURIComponent(id); }
function badge(text, cls) { return h('span', { class: 'badge ' + (cls || text) }, text); }
function card(label, value, id) {
  return h('div', { class: 'card' }, h('div', { class: 'value', id }, value), h('div', { class: 'label' }, label));
}
function pad(n) { return String(n).padStart(2, '0'); }
function time(ms) {
  if (ms === null || ms === undefined) return '—';
  const d = new Date(ms);
  return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + pad(d.getHours()) + ':'
    + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
}
function age(ms) {
  if (ms === null || ms === undefined || ms < 0) return '—';
  if (ms < 1000) return ms + ' ms';
  if (ms < 60000) return (ms / 1000).toFixed(1) + ' s';
  if (ms < 3600000) return Math.floor(ms / 60000) + ' min ' + Math.floor(ms % 60000 / 1000) + ' s';
  return Math.floor(ms / 3600000) + ' h ' + Math.floor(ms % 3600000 / 60000) + ' min';
}
// "2 min", "45 s", "3 h", "2 days": how far off a due time is, as an operator reads it at a glance.
function roughly(ms) {
  if (ms < 60000) return Math.max(1, Math.round(ms / 1000)) + ' s';
  if (ms < 3600000) return Math.round(ms / 60000) + ' min';
  if (ms < 172800000) return Math.round(ms / 3600000) + ' h';
  return Math.round(ms / 86400000) + ' days';
}
// A WAITING task whose due time is ahead waits for it (a delayed add, or a retry's backoff); due_at stays once it passed.
function isDelayed(t) { return t.status === 'WAITING' && t.due_at > Date.now(); }
function dueText(t) { return isDelayed(t) ? 'due in ' + roughly(t.due_at - Date.now()) : null; }
function json(value) { return value === null || value === undefined ? '—' : JSON.stringify(value, null, 2); }
function showFlash(text, ok) {
  flash.textContent = text;
  flash.className = ok ? 'ok' : '';
  flash.hidden = false;
  clearTimeout(showFlash.timer);
  showFlash.timer = setTimeout(() => { flash.hidden = true; }, ok ? 3000 : 8000);
}

// ---- API ----------------------------------------------------------------------------------------
async function api(path) {
  const response = await fetch('/api/' + path, { headers: { Accept: 'application/json' } });
  const body = await response.json().catch(() => ({ error: 'answer is no JSON (HTTP ' + response.status + ')' }));
  if (!response.ok) throw new Error(body.error || 'HTTP ' + response.status);
  return body;
}

// A change: the custom header proves it comes from this page (another site cannot send it); the
// token, when the dashboard has one, is asked once and kept for this tab only.
async function act(path, confirmText) {
  if (confirmText && !window.confirm(confirmText)) return null;
  for (let attempt = 0; attempt < 2; attempt++) {
    const headers = { 'X-Taskpool-Request': '1', Accept: 'application/json' };
    const token = sessionStorage.getItem('taskpool-token');
    if (token) headers.Authorization = 'Bearer ' + token;
    const response = await fetch('/api/' + path, { method: 'POST', headers });
    const body = await response.json().catch(() => ({ error: 'answer is no JSON (HTTP ' + response.status + ')' }));
    if (response.status === 401 && attempt === 0) {
      const given = window.prompt('This dashboard needs its token for changes:');
      if (!given) break;
      sessionStorage.setItem('taskpool-token', given);
      continue;
    }
    if (!response.ok) { showFlash(body.error || 'HTTP ' + response.status); return null; }
    showFlash(describeDone(body), true);
    current && current.refresh && current.refresh();
    return body;
  }
  showFlash('not done: no token given');
  return null;
}
function describeDone(body) {
  if (body.schedule) {
    const next = body.done === 'start' && body.state && body.state.nextFireAt ? ': next fire ' + time(body.state.nextFireAt) : '';
    return { stop: 'stopped schedule ', start: 'started schedule ', trigger: 'triggered schedule ' }[body.done] + body.schedule
      + (body.done === 'trigger' ? ': a running worker fires it once' : next);
  }
  const what = body.task + (body.id ? ' #' + body.id : '');
  return { retry: 'retried ', cancel: 'canceled ', delete: 'deleted ', pause: 'paused ', resume: 'resumed ',
    'run-now': 'runs next: ',
    'retry-failed': 'retried ' + body.count + ' failed of ' }[body.done] + what;
}
function actionButton(id, text, enabled, path, confirmText, cls) {
  const disabled = config.readOnly || !enabled;
  return h('button', { id, class: cls, disabled, title: config.readOnly ? 'read-only dashboard' : null,
    onclick: () => act(path, confirmText) }, text);
}

// ---- live events: one stream per page, filtered by the server -----------------------------------
function connect(filter) {
  if (stream) stream.close();
  live.dataset.state = 'connecting';
  live.textContent = 'connecting…';
  stream = new EventSource('/events' + filter);
  stream.addEventListener('hello', () => {
    live.dataset.state = 'connected';
    live.textContent = 'live';
    current && current.refresh && current.refresh();   // subscribed: state read now misses nothing later
  });
  for (const name of ['task', 'control']) {
    stream.addEventListener(name, message => {
      let event;
      try { event = JSON.parse(message.data); } catch (e) { return; }
      event.kind = name;
      current && current.onEvent && current.onEvent(event);
    });
  }
  stream.addEventListener('reload', () => current && current.refresh && current.refresh());
  stream.addEventListener('closed', () => { live.dataset.state = 'disconnected'; live.textContent = 'server stopped'; });
  stream.onerror = () => { live.dataset.state = 'disconnected'; live.textContent = 'reconnecting…'; };
}

// At most one fetch per second, however many events arrive; the last event always gets one.
function throttled(load) {
  const page = shown;
  let last = 0, timer = null, running = false, again = false;
  const run = async () => {
    if (page !== shown) return;   // its page was left
    if (running) { again = true; return; }
    running = true; last = Date.now(); timer = null;
    try { await load(); } catch (e) { showFlash(e.message); } finally {
      running = false;
      if (again) { again = false; schedule(); }
    }
  };
  const schedule = () => {
    if (timer) return;
    const wait = Math.max(0, 1000 - (Date.now() - last));
    timer = setTimeout(run, wait);
  };
  return schedule;
}

// ---- pages --------------------------------------------------------------------------------------
const sparks = new Map();   // kind -> 60 one-second buckets of finished tasks seen live
function countFinished(event) {
  if (event.kind !== 'task' || (event.event !== 'success' && event.event !== 'failure')) return;
  const second = Math.floor(Date.now() / 1000);
  let spark = sparks.get(event.task);
  if (!spark) { spark = { start: second, buckets: new Array(60).fill(0) }; sparks.set(event.task, spark); }
  roll(spark, second);
  spark.buckets[59]++;
}
function roll(spark, second) {
  const shift = Math.min(60, second - spark.start);
  if (shift > 0) { spark.buckets.splice(0, shift); spark.buckets.push(...new Array(shift).fill(0)); spark.start = second; }
}
function sparkline(task) {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('viewBox', '0 0 120 24');
  svg.setAttribute('preserveAspectRatio', 'none');
  const spark = sparks.get(task);
  const buckets = spark ? (roll(spark, Math.floor(Date.now() / 1000)), spark.buckets) : new Array(60).fill(0);
  const max = Math.max(1, ...buckets);
  const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
  line.setAttribute('points', buckets.map((n, i) => (i * 2) + ',' + (23 - n / max * 22).toFixed(1)).join(' '));
  svg.append(line);
  const title = document.createElementNS('http://www.w3.org/2000/svg', 'title');
  title.textContent = 'finished per second over the last minute seen live (peak ' + max + '/s)';
  svg.append(title);
  return svg;
}

function overviewPage() {
  const page = shown;
  let data = null;
  const render = () => {
    if (!data || page !== shown) return;
    // A kind whose keys cannot be read is a row saying why (the key and what it holds); the rest are counted.
    const readable = data.kinds.filter(k => !k.error);
    const rows = data.kinds.map(k => k.error ? h('tr', { id: 'kind-row-' + k.task, 'data-task': k.task, class: 'broken' },
      h('td', {}, k.task), h('td', { colspan: 12, class: 'error' }, 'ERROR ' + k.error)) : h('tr', { id: 'kind-row-' + k.task, 'data-task': k.task },
      h('td', {}, link(kindHref(k.task), k.task), ' ', k.paused ? badge('paused', 'paused') : null, heldBackBadges(k)),
      h('td', { class: 'num' }, k.ready), h('td', { class: 'num' }, k.delayed), h('td', { class: 'num running' }, runningText(k)),
      h('td', { class: 'num' }, k.succeededTotal), h('td', { class: 'num' }, k.failedTotal),
      h('td', { class: 'num' }, k.retried), h('td', { class: 'num' }, k.recovered), h('td', { class: 'num' }, k.canceled),
      h('td', { class: 'num duplicates' }, k.duplicates), h('td', { class: 'num' }, age(k.oldestWaitingAgeMs)),
      h('td', { class: 'num' }, k.finishedPerSecondLastMinute.toFixed(2) + '/s'),
      h('td', { class: 'spark-cell', 'data-task': k.task }, sparkline(k.task))));
    const busy = data.workers.reduce((n, w) => n + w.busySlots, 0);
    const slots = data.workers.reduce((n, w) => n + w.totalSlots, 0);
    view.replaceChildren(
      h('h1', {}, 'Overview'),
      h('div', { class: 'cards' }, card('kinds', data.kinds.length), card('waiting', readable.reduce((n, k) => n + k.waiting, 0)),
        card('running', readable.reduce((n, k) => n + k.running, 0)),
        card('workers', data.workers.length), card('busy slots', busy + ' / ' + slots)),
      data.kinds.length === 0 ? h('p', { class: 'muted' }, 'No task kinds yet: a worker or `taskpool run` publishes them.') :
        h('table', { id: 'kinds' }, h('thead', {}, h('tr', {}, h('th', {}, 'kind'), h('th', { class: 'num' }, 'ready'),
          h('th', { class: 'num', title: 'waiting for their due time' }, 'delayed'),
          h('th', { class: 'num' }, 'running'), h('th', { class: 'num' }, 'succeeded'), h('th', { class: 'num' }, 'failed'),
          h('th', { class: 'num' }, 'retried'), h('th', { class: 'num' }, 'recovered'), h('th', { class: 'num' }, 'canceled'),
          h('th', { class: 'num', title: 'adds answered with the task that holds their key' }, 'duplicates'), h('th', { class: 'num' }, 'oldest wait'), h('th', { class: 'num' }, 'last minute'), h('th', {}, 'live'))),
        h('tbody', {}, rows)),
      h('ul', { id: 'problems', class: 'problems', hidden: (data.problems || []).length === 0 },
        (data.problems || []).map(problem => h('li', {}, problem))));
  };
  const refresh = throttled(async () => { data = await api('overview'); render(); });
  // the sparklines move on every second without a fetch (and without rebuilding the table)
  const redraw = setInterval(() => {
    for (const cell of view.querySelectorAll('td.spark-cell')) cell.replaceChildren(sparkline(cell.dataset.task));
  }, 1000);
  return { filter: '', refresh, onEvent: e => { countFinished(e); refresh(); }, dispose: () => clearInterval(redraw) };
}

function kindPage(task, params) {
  const status = (params.get('status') || 'waiting').toUpperCase();
  const cursors = [null];   // the cursor of each page seen, to go back
  let stats = null, page = null;
  const shownAs = shown;
  const render = () => {
    if (!stats || !page || shownAs !== shown) return;
    const tabCount = { WAITING: stats.waiting, RUNNING: stats.running, SUCCESS: stats.succeededRetained, FAILURE: stats.failedRetained };
    const rows = page.tasks.map(t => h('tr', { 'data-id': t.id },
      h('td', {}, link(taskHref(task, t.id), '#' + t.id)),
      h('td', {}, badge(t.status), isDelayed(t) ? h('span', { class: 'due', title: 'due at ' + time(t.due_at) }, ' ' + dueText(t)) : null),
      h('td', { class: 'num' }, t.attempt), h('td', { class: 'num' }, t.priority || 0), h('td', { class: 'key', title: t.key || null }, t.key || '—'),
      h('td', {}, time(t.created_at)), h('td', {}, time(t.started_at)), h('td', {}, time(t.finished_at)),
      h('td', {}, t.total > 0 ? t.current + '/' + t.total + (t.message ? ' ' + t.message : '') : (t.message || '')),
      h('td', {}, t.error ? t.error.slice(0, 160) : '')));
    view.replaceChildren(
      h('h1', {}, 'Kind ', h('span', { id: 'kind-name' }, task), stats.paused
        ? h('span', { id: 'kind-paused', class: 'badge paused', title: 'paused by ' + (stats.pausedBy || '?') }, 'paused')
        : h('span', { id: 'kind-running', class: 'badge SUCCESS' }, 'taking tasks'), heldBackBadges(stats)),
      heldBackLine(stats),
      h('div', { class: 'cards' }, card('waiting', stats.waiting, 'count-waiting'), card('delayed', stats.delayed, 'count-delayed'),
        card(stats.flow && stats.flow.maxRunning > 0 ? 'running / cap' : 'running', runningText(stats), 'count-running'),
        card('duplicates', stats.duplicates, 'count-duplicates'),
        card('succeeded', stats.succeededTotal, 'count-succeeded'), card('failed', stats.failedTotal, 'count-failed'),
        card('retried', stats.retried), card('recovered', stats.recovered), card('canceled', stats.canceled),
        card('oldest wait', age(stats.oldestWaitingAgeMs)), card('last minute', stats.finishedPerSecondLastMinute.toFixed(2) + '/s')),
      partitionsTable(stats),
      h('div', { class: 'actions' },
        stats.paused ? actionButton('resume', 'Resume', true, 'kinds/' + encodeURIComponent(task) + '/resume')
          : actionButton('pause', 'Pause', true, 'kinds/' + encodeURIComponent(task) + '/pause'),
        status === 'FAILURE' ? actionButton('retry-failed', 'Retry all failed', stats.failedRetained > 0,
          'kinds/' + encodeURIComponent(task) + '/retry-failed', 'Retry every failed task of ' + task + '?') : null),
      h('div', { class: 'tabs' }, STATUSES.map(s => link(kindHref(task, s), s.toLowerCase() + ' (' + tabCount[s] + ')',
        { id: 'tab-' + s.toLowerCase(), class: s === status ? 'current' : null }))),
      page.tasks.length === 0 ? h('p', { class: 'muted', id: 'no-tasks' }, 'No ' + status.toLowerCase() + ' tasks.') :
        h('table', { id: 'tasks' }, h('thead', {}, h('tr', {}, ['id', 'status', 'runs', 'prio', 'key', 'created', 'started', 'finished',
          'progress', 'error'].map(name => h('th', {}, name)))), h('tbody', {}, rows)),
      h('div', { class: 'pager' },
        h('button', { id: 'page-first', disabled: cursors.length === 1, onclick: () => { cursors.length = 1; load(); } }, 'Newest'),
        h('button', { id: 'page-prev', disabled: cursors.length === 1, onclick: () => { cursors.pop(); load(); } }, '← Newer'),
        h('span', { class: 'muted' }, 'page ' + cursors.length),
        h('button', { id: 'page-next', disabled: !page.next, onclick: () => { cursors.push(page.next); load(); } }, 'Older →')));
  };
  const load = async () => {
    const after = cursors[cursors.length - 1];
    const [s, p] = await Promise.all([api('kinds/' + encodeURIComponent(task)),
      api('kinds/' + encodeURIComponent(task) + '/tasks?status=' + status.toLowerCase() + '&limit=20'
        + (after ? '&after=' + encodeURIComponent(after) : ''))]);
    stats = s; page = p; render();
  };
  const refresh = throttled(load);
  return { filter: '?task=' + encodeURIComponent(task), refresh, onEvent: e => { countFinished(e); refresh(); } };
}

function taskPage(task, id) {
  let info = null, missing = null;
  const timeline = [];
  const progressBar = () => {
    const total = info ? info.total : 0, done = info ? info.current : 0;
    const percent = total > 0 ? Math.min(100, done / total * 100) : (info && info.status === 'SUCCESS' ? 100 : 0);
    return h('div', { class: 'progress', id: 'progress', 'data-current': done, 'data-total': total },
      h('div', { class: 'bar', id: 'progress-bar', style: null, 'data-percent': percent.toFixed(0) }),
      h('div', { class: 'text', id: 'progress-text' }, total > 0 ? done + ' / ' + total + (info.message ? ' — ' + info.message : '') : (info && info.message) || ''));
  };
  const sizeBar = () => {
    const bar = document.getElementById('progress-bar');
    if (bar) bar.style.width = bar.dataset.percent + '%';   // set through the DOM: the policy allows no inline style
  };
  const page = shown;
  const render = () => {
    if (page !== shown) return;
    if (missing) { view.replaceChildren(h('h1', {}, task + ' #' + id), h('p', { id: 'task-missing' }, missing), timelineList()); return; }
    if (!info) return;
    const path = 'kinds/' + encodeURIComponent(task) + '/tasks/' + encodeURIComponent(id) + '/';
    view.replaceChildren(
      h('h1', {}, link(kindHref(task), task), ' #' + id, h('span', { id: 'task-status', class: 'badge ' + info.status }, info.status),
        isDelayed(info) ? h('span', { id: 'task-due', class: 'due', title: 'due at ' + time(info.due_at) }, ' ' + dueText(info)) : null),
      progressBar(),
      h('div', { class: 'actions' },
        actionButton('retry', 'Retry', info.status === 'FAILURE', path + 'retry'),
        actionButton('run-now', 'Run now', isDelayed(info), path + 'run-now'),
        actionButton('cancel', 'Cancel', info.status === 'WAITING' || info.status === 'RUNNING', path + 'cancel',
          'Cancel ' + task + ' #' + id + '?', 'danger'),
        actionButton('delete', 'Delete', info.status === 'SUCCESS' || info.status === 'FAILURE', path + 'delete',
          'Delete ' + task + ' #' + id + ' for good?', 'danger')),
      h('div', { class: 'two' },
        h('div', {},
          h('dl', { class: 'fields' },
            h('dt', {}, 'runs'), h('dd', { id: 'task-attempt' }, info.attempt),
            h('dt', {}, 'worker'), h('dd', {}, info.worker || '—'), priorityAndKey(info),
            h('dt', {}, 'created'), h('dd', {}, time(info.created_at)),
            info.due_at ? [h('dt', {}, 'due'), h('dd', { id: 'task-due-at' }, time(info.due_at))] : null,
            h('dt', {}, 'started'), h('dd', {}, time(info.started_at)),
            h('dt', {}, 'finished'), h('dd', {}, time(info.finished_at)),
            info.history ? [
              h('dt', {}, 'retried by operators'), h('dd', { id: 'task-resubmitted' }, (info.history.resubmitted || 0) + ' time(s)'
                + (info.history.resubmitted_by ? ', last by ' + info.history.resubmitted_by : '')
                + (info.history.resubmitted_at ? ' at ' + time(info.history.resubmitted_at) : '')),
              h('dt', {}, 'runs before'), h('dd', {}, info.history.previous_attempts || 0),
              h('dt', {}, 'previous error'), h('dd', { id: 'task-previous-error' }, info.history.previous_error || '—')] : null),
          h('h2', {}, 'Arguments'), h('pre', { id: 'task-args' }, json(info.args)),
          h('h2', {}, 'Response'), h('pre', { id: 'task-response' }, json(info.response)),
          info.error ? [h('h2', {}, 'Error'), h('pre', { id: 'task-error' }, info.error)] : null),
        h('div', {}, h('h2', {}, 'Live timeline'), timelineList())));
    sizeBar();
  };
  const timelineList = () => h('ol', { class: 'timeline', id: 'timeline' }, timeline.length === 0
    ? h('li', { class: 'muted' }, 'Events appear here as they happen.')
    : timeline.map(e => h('li', { 'data-event': e.event },
      h('span', { class: 'when' }, time(e.at || e.received)), h('span', { class: 'what' }, e.event),
      describeEvent(e))));
  const refresh = throttled(async () => {
    try { info = await api('kinds/' + encodeURIComponent(task) + '/tasks/' + encodeURIComponent(id)); missing = null; }
    catch (e) { missing = e.message; }
    render();
  });
  const onEvent = e => {
    e.received = Date.now();
    timeline.unshift(e);
    if (timeline.length > 200) timeline.pop();
    if (e.kind === 'task' && e.event === 'progress' && info) {
      // a progress event carries all it changes: the bar moves without a fetch
      info.current = e.current; info.total = e.total; info.message = e.message || '';
      render();
      return;
    }
    render();
    refresh();
  };
  return { filter: '?task=' + encodeURIComponent(task) + '&id=' + encodeURIComponent(id), refresh, onEvent };
}
function describeEvent(e) {
  const parts = [];
  if (e.kind === 'control') parts.push('(kind)');
  if (e.event === 'progress') parts.push(e.current + '/' + e.total + (e.message ? ' ' + e.message : ''));
  if (e.attempt !== undefined) parts.push('run ' + e.attempt);
  if (e.error) parts.push(String(e.error).slice(0, 200));
  if (e.by) parts.push('by ' + e.by);
  if (e.worker) parts.push('on ' + e.worker);
  return parts.join(' · ');
}

function workersPage() {
  const page = shown;
  let workers = null;
  const render = () => {
    if (!workers || page !== shown) return;
    const now = Date.now();
    view.replaceChildren(h('h1', {}, 'Workers'),
      workers.length === 0 ? h('p', { class: 'muted' }, 'No live worker.') :
        h('table', { id: 'workers' }, h('thead', {}, h('tr', {}, ['worker', 'host', 'pid', 'kinds', 'busy / slots', 'started',
          'last seen'].map(name => h('th', {}, name)))),
        h('tbody', {}, workers.map(w => h('tr', {}, h('td', {}, w.id), h('td', {}, w.host), h('td', { class: 'num' }, w.pid),
          h('td', {}, w.tasks.map((t, i) => [i ? ', ' : '', link(kindHref(t), t)])),
          h('td', { class: 'num' }, w.busySlots + ' / ' + w.totalSlots), h('td', {}, time(w.startedAtMs)),
          h('td', {}, age(now - w.seenAtMs) + ' ago'))))));
  };
  const refresh = throttled(async () => { workers = await api('workers'); render(); });
  // presence is no pub/sub event: the list is re-read every 5 s while this page is open
  const timer = setInterval(refresh, 5000);
  return { filter: '', refresh, onEvent: countFinished, dispose: () => clearInterval(timer) };
}

// ---- routing ------------------------------------------------------------------------------------
function route() {
  if (current && current.dispose) current.dispose();
  shown++;
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, query] = hash.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(query || '');
  document.getElementById('nav-overview').className = parts.length === 0 ? 'current' : '';
  document.getElementById('nav-workers').className = parts[0] === 'workers' ? 'current' : '';
  document.getElementById('nav-schedules').className = parts[0] === 'schedules' ? 'current' : '';
  if (parts[0] === 'kind' && parts.length === 2) current = kindPage(parts[1], params);
  else if (parts[0] === 'task' && parts.length === 3) current = taskPage(parts[1], parts[2]);
  else if (parts[0] === 'workers') current = workersPage();
  else if (parts[0] === 'schedules') current = schedulesPage();
  else current = overviewPage();
  view.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
  connect(current.filter);   // its 'hello' loads the page's data
}

window.addEventListener('hashchange', route);
api('overview').then(overview => {
  config = { readOnly: overview.readOnly, tokenRequired: overview.tokenRequired };
  document.getElementById('mode').textContent = config.readOnly ? 'read-only' : '';
}).catch(e => showFlash(e.message)).finally(route);
