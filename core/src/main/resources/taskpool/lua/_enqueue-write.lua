-- _enqueue-write: writing one new task of enqueue-10.lua. Not a script of its own (see
-- _checks.lua); it reads enqueue's KEYS and ARGV (see that script's header).
-- Defines: writeTask(request, n, id, hold, ready, later).

-- Writes the hash of task n of `request` (its id `id`) and, when it has one, takes its unique key
-- for `hold` ms; appends it to ready[priority] (the ids to push on each list) or, when it is due
-- later, to `later` (due, id pairs). Returns true when it is ready now.
-- Only what a new task holds: `current`, `total`, `message` and `attempt` are written when they
-- change (readers take 0, 0, '' and 0 when they are missing), and the task and id are not written
-- at all (the key names both), which keeps the hash small. A plain task (no due time, priority 0,
-- no key) is one HSET with no table built: the hot path.
local function writeTask(request, n, id, hold, ready, later)
  local key, args, now, due, priority = request.keys[n], ARGV[request.from + 2 * n - 1], request.now, request.due, request.priority
  local unique = request.uniq and request.uniq[n]
  if not due and priority == '0' and not unique then
    redis.call('HSET', key, 'status', 'WAITING', 'args', args, 'created_at', now)
    local level = ready['0']
    level[#level + 1] = id
    return true
  end
  local fields = {'status', 'WAITING', 'args', args, 'created_at', now}
  if due then
    later[#later + 1] = due
    later[#later + 1] = id
    fields[#fields + 1], fields[#fields + 2] = 'due_at', due
  else
    local level = ready[priority]
    level[#level + 1] = id
  end
  if priority ~= '0' then fields[#fields + 1], fields[#fields + 2] = 'priority', priority end
  if unique then
    fields[#fields + 1], fields[#fields + 2] = 'key', unique
    redis.call('SET', KEYS[10] .. unique, id, 'PX', hold)
  end
  redis.call('HSET', key, unpack(fields))
  return not due
end
