// A script's add loop, as a process that adds one task per call does: Process('tasks.bench.addloop.add', i).
// Run:  bin/taskpool run --app examples/addloop scripts.addloop.Adds 20000
// It times the loop only (after the runtime started), and a first pass of WARM adds apart from it.
function Adds(n, warm) {
  n = n || 20000;
  warm = warm === undefined ? 2000 : warm;
  for (let i = 0; i < warm; i++) {
    Process('tasks.bench.addloop.add', 'warm', i);
  }
  const start = Date.now();
  let last = 0;
  for (let i = 0; i < n; i++) {
    last = Process('tasks.bench.addloop.add', i);
  }
  const ms = Math.max(1, Date.now() - start);
  return { adds: n, warm_adds: warm, ms: ms, adds_per_s: Math.round(n * 1000 / ms), last_id: last };
}

// The task's processor (unused by the measurement; it only has to exist).
function Noop(i) {
  return i;
}
