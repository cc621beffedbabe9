// taskpool dashboard: what holds a kind back (its cap on running tasks, its rate, a hold a
// processor asked for), the duplicates it refused, and a task's priority and key. Loaded before
// app.js, whose helpers it uses when called (h, badge, pad, age). Like app.js, everything shown is
// put in the page as text, never parsed as HTML.

// A time of day to the ms ("14:03:07.250"), with its date when that is not today.
function clockTime(ms) {
  const d = new Date(ms);
  const text = pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()) + '.' + String(d.getMilliseconds()).padStart(3, '0');
  return d.toDateString() === new Date().toDateString() ? text
    : d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + text;
}
// RUNNING of the cap when the kind has one ("2 / 3").
function runningText(k) {
  return k.flow && k.flow.maxRunning > 0 ? k.running + ' / ' + k.flow.maxRunning : String(k.running);
}
// What holds the kind back now, as {id, label, text}: "at cap (3 / 3)", "rate-limited until 14:03:07.250
// (10 per 1.0 s)", "held until 14:05:00.000 (the service said 429)". A time passed since the read holds nothing.
// A partitioned kind not held back as a whole may have partitions that are: one entry "partly held" says
// which ("partition 2 (mail~2): at cap (1 / 1)").
function heldBack(k) {
  const held = flowHeld(k.flow || {}, k.running);
  if (held.length > 0 || !k.partitions) return held;
  const parts = [];
  for (const p of k.partitions) {
    const why = flowHeld(p.flow || {}, p.running);
    if (why.length > 0) parts.push('partition ' + p.number + ' (' + p.name + '): ' + why.map(x => x.text).join('; '));
  }
  return parts.length === 0 ? [] : [{ id: 'partitions', label: 'partly held', text: parts.join('; ') }];
}
function flowHeld(flow, running) {
  const now = Date.now();
  const held = [];
  if (flow.atCap) held.push({ id: 'cap', label: 'at cap', text: 'at cap (' + running + ' / ' + flow.maxRunning + ')' });
  if (flow.rateLimitedUntil > now) {
    held.push({ id: 'rate', label: 'rate-limited', text: 'rate-limited until ' + clockTime(flow.rateLimitedUntil)
      + ' (' + flow.rateLimit + ' per ' + age(flow.ratePerMs) + ')' });
  }
  if (flow.heldUntil > now) {
    held.push({ id: 'hold', label: 'held', text: 'held until ' + clockTime(flow.heldUntil) + (flow.heldReason ? ' (' + flow.heldReason + ')' : '') });
  }
  return held;
}
// Badges beside a kind's name, each saying in its title what and until when.
function heldBackBadges(k) {
  return heldBack(k).flatMap(held => [' ', h('span', { class: 'badge held', 'data-held': held.id, title: held.text }, held.label)]);
}
// The kind page's line under its name: everything that holds it back, or nothing.
function heldBackLine(k) {
  const held = heldBack(k);
  return held.length === 0 ? null : h('p', { id: 'kind-held', class: 'held' }, 'Held back: ' + held.map(x => x.text).join('; '));
}
// A task's priority and key, as its page lists them.
function priorityAndKey(t) {
  return [h('dt', {}, 'priority'), h('dd', { id: 'task-priority' }, t.priority || 0),
    h('dt', {}, 'key'), h('dd', { id: 'task-key' }, t.key === undefined || t.key === null ? '—' : t.key)];
}
// A partitioned kind's partitions, a row each: number, name, slot, master (in a Cluster), counts, paused.
function partitionsTable(k) {
  if (!k.partitions || k.partitions.length === 0) return null;
  const cluster = k.partitions.some(p => p.master);
  const names = ['#', 'name', 'slot'].concat(cluster ? ['master'] : [], ['ready', 'delayed', 'running', 'size', 'paused']);
  const rows = k.partitions.map(p => h('tr', { 'data-partition': p.number },
    h('td', { class: 'num' }, p.number), h('td', {}, p.name + (p.adding ? '' : ' (no adds)')), h('td', { class: 'num' }, p.slot),
    cluster ? h('td', {}, p.master || '—') : null,
    h('td', { class: 'num' }, p.ready), h('td', { class: 'num' }, p.delayed), h('td', { class: 'num' }, runningText(p)),
    h('td', { class: 'num' }, p.size), h('td', {}, p.paused ? 'paused' : '—')));
  return h('div', { id: 'partitions' }, h('h2', {}, 'Partitions'),
    h('table', { id: 'partition-rows' }, h('thead', {}, h('tr', {}, names.map(name => h('th', {}, name)))), h('tbody', {}, rows)));
}
