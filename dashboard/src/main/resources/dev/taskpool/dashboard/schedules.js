// taskpool dashboard: the Schedules page (loaded before app.js, whose helpers it uses when called:
// h, link, badge, time, age, api, throttled, actionButton, countFinished, view, shown). Like app.js,
// everything shown is put in the page as text, never parsed as HTML.

// A time to come ("in 3.0 s"), or one past that no worker has fired yet ("due 5.0 s ago").
function untilNext(ms, now) {
  if (!ms) return '—';
  return time(ms) + (ms >= now ? ' (in ' + age(ms - now) + ')' : ' (due ' + age(now - ms) + ' ago)');
}
function schedulesPage() {
  const page = shown;
  let data = null;
  const render = () => {
    if (!data || page !== shown) return;
    const now = data.now;
    const rows = data.schedules.map(s => {
      const path = 'schedules/' + encodeURIComponent(s.id) + '/';
      return h('tr', { id: 'schedule-row-' + s.id, 'data-schedule': s.id, class: s.stopped ? 'stopped' : null },
        h('td', {}, s.id), h('td', {}, s.name || ''),
        // (an entry in the registry that cannot be read has no cron and runs nothing: its last error says why)
        h('td', {}, s.cron ? [h('code', {}, s.cron), ' ', h('span', { class: 'muted' }, s.timezone || 'UTC')] : '—'),
        h('td', {}, s.task ? ['task ', link(kindHref(s.task), s.task)] : s.process ? 'process ' + s.process : '—'),
        h('td', { class: 'next-fire' }, s.stopped ? '—' : untilNext(s.nextFireAt, now)),
        h('td', {}, s.lastFireAt ? time(s.lastFireAt) + ' (' + age(now - s.lastFireAt) + ' ago)' : '—'),
        h('td', { class: 'num' }, s.task && s.lastTaskId ? link(taskHref(s.task, s.lastTaskId), '#' + s.lastTaskId) : '—'),
        h('td', { class: 'state' }, s.stopped ? badge('stopped', 'paused') : badge('active', 'SUCCESS')),
        h('td', { class: 'error' }, s.lastError ? String(s.lastError).slice(0, 160) : ''),
        h('td', {}, s.cron === null ? null : h('div', { class: 'row-actions' },
          s.stopped ? actionButton('schedule-start-' + s.id, 'Start', true, path + 'start')
            : actionButton('schedule-stop-' + s.id, 'Stop', true, path + 'stop'),
          actionButton('schedule-trigger-' + s.id, 'Trigger', true, path + 'trigger', 'Fire schedule ' + s.id + ' once now?'))));
    });
    view.replaceChildren(h('h1', {}, 'Schedules'),
      data.schedules.length === 0
        ? h('p', { class: 'muted', id: 'no-schedules' }, 'No schedules: a worker publishes its app\'s schedules/ when it starts,'
          + ' and the Java client can make them.')
        : h('table', { id: 'schedules' }, h('thead', {}, h('tr', {}, ['schedule', 'name', 'cron (zone)', 'runs', 'next fire',
          'last fire', 'last task', 'state', 'last error', ''].map(name => h('th', {}, name)))), h('tbody', {}, rows)));
  };
  const refresh = throttled(async () => { data = await api('schedules'); render(); });
  // stop, start and next fire times are no pub/sub event: re-read every 2 s while this page is open
  // (a firing's task is: its 'added' event refreshes at once)
  const timer = setInterval(refresh, 2000);
  return { filter: '', refresh, onEvent: e => { countFinished(e); refresh(); }, dispose: () => clearInterval(timer) };
}
