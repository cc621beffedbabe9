-- _due: the kind's delayed tasks, the sorted set taskpool:{T}:delayed (id -> due time, epoch ms by
-- Redis' clock, which the caller passes in). Not a script of its own: a script pulls it in with
-- `--@include _due.lua`. A delayed task is WAITING; its hash holds `due_at`, which is left in place
-- when it falls due (moving a million due tasks must not touch a million hashes).
-- Defines: nextDue(delayedKey), delayTask(delayedKey, wakeKey, id, due),
-- delayTasks(delayedKey, wakeKey, entries), promoteDue(delayedKey, waitingKey, now, limit, taskPrefix),
-- watchDue(watchKey, soonest, now), nextLook(out, heldUntil, soonest, short, now).
-- The caller has checked the types of the keys it passes (see _checks.lua) before its first write.

-- The most ids one call moves from the delayed set to the queue: about a millisecond of Redis' time.
local DUE_STEP = 1000

-- The earliest due time in the set, as a number; false when the set is empty.
local function nextDue(delayedKey)
  local first = redis.call('ZRANGE', delayedKey, 0, 0, 'WITHSCORES')
  return first[2] ~= nil and tonumber(first[2])
end

-- Puts `entries` (a flat list: due, id, due, id, ...) in the delayed set. When one becomes the
-- earliest, wakes one idle worker: a worker waiting for a later due time (or for nothing) then
-- fetches again and learns the earlier time, so nothing but this add is needed for the task to
-- start on time. ZADD in slices: unpack() of more than a few thousand values overflows Lua's C stack.
local function delayTasks(delayedKey, wakeKey, entries)
  local earliest = nextDue(delayedKey)
  local soonest
  for at = 1, #entries, 2 do
    local due = tonumber(entries[at])
    if not soonest or due < soonest then soonest = due end
  end
  for from = 1, #entries, 1000 do
    redis.call('ZADD', delayedKey, unpack(entries, from, math.min(from + 999, #entries)))
  end
  if (not earliest or soonest < earliest) and redis.call('LLEN', wakeKey) == 0 then
    redis.call('RPUSH', wakeKey, '1')
  end
end

-- Puts `id` in the delayed set, due at `due` (see delayTasks).
local function delayTask(delayedKey, wakeKey, id, due)
  delayTasks(delayedKey, wakeKey, {due, id})
end

-- Moves up to `limit` ids that are due (due time <= now) to the waiting queue, earliest first;
-- they join the queue behind the tasks already ready (LPUSH: taken from the right). Bounded, so
-- a million tasks falling due at once move over many short calls instead of one long one. With
-- nothing due (the usual case on the hot path) it costs one cheap command: a look at the earliest.
-- With `taskPrefix` (given when the kind has had tasks of priority 1-3: its `flow` hash says
-- `priorities`), each id joins the list of its task's `priority` (waitingKey .. ':' .. p; one HGET
-- per id); without it, every id joins waitingKey, as a kind with no priorities needs.
-- Returns how many moved and the earliest due time still in the set (false if none).
local function promoteDue(delayedKey, waitingKey, now, limit, taskPrefix)
  local earliest = nextDue(delayedKey)
  if not earliest or earliest > tonumber(now) then return 0, earliest end
  local due = redis.call('ZRANGEBYSCORE', delayedKey, '-inf', now, 'LIMIT', 0, limit)
  local queues = {[waitingKey] = due}
  if taskPrefix then
    queues = {[waitingKey] = {}}
    for _, id in ipairs(due) do
      local priority = redis.pcall('HGET', taskPrefix .. id, 'priority')
      local queue = waitingKey
      if priority == '1' or priority == '2' or priority == '3' then
        queue = waitingKey .. ':' .. priority
        -- (a list broken by hand takes nothing: its ids join the default queue, never lost)
        if not queues[queue] and not ({list = true, none = true})[redis.call('TYPE', queue).ok] then queue = waitingKey end
      end
      queues[queue] = queues[queue] or {}
      table.insert(queues[queue], id)
    end
  end
  for from = 1, #due, 1000 do
    redis.call('ZREM', delayedKey, unpack(due, from, math.min(from + 999, #due)))
  end
  for queue, ids in pairs(queues) do
    for from = 1, #ids, 1000 do
      redis.call('LPUSH', queue, unpack(ids, from, math.min(from + 999, #ids)))
    end
  end
  return #due, nextDue(delayedKey)
end


-- Whether the worker going idle now is to set its timer for `soonest`, the earliest due time (after
-- `now`): yes when no worker watches that time yet. One idle worker's timer per due time, not
-- every idle worker's (no thundering herd): the watch key names the time watched and lapses a
-- little after it, so that a watcher that died is replaced at the next fetch. The others wait on
-- the wake list, whose token a promotion or a new earlier due time pushes.
local function watchDue(watchKey, soonest, now)
  local watched = redis.pcall('GET', watchKey)
  if type(watched) == 'table' then return 1 end   -- (not a string: every idle worker watches rather than none)
  local due = string.format('%d', soonest)
  if watched == due then return 0 end
  redis.call('SET', watchKey, due, 'PX', string.format('%d', soonest - tonumber(now) + 2000))
  return 1
end

-- finish-15's answer of when this worker looks again (out[1], out[2]): held back with tasks ready
-- (heldUntil), the end of the hold or of the rate window, watched with watch = 2 (the worker adds
-- a little jitter); else the earliest due time, when the worker took fewer than it asked (short).
local function nextLook(out, heldUntil, soonest, short, now)
  if heldUntil and (soonest <= 0 or heldUntil < soonest) then
    out[1] = heldUntil
    out[2] = watchDue(KEYS[12], heldUntil, now) * 2
  elseif soonest > tonumber(now) and short then
    out[2] = watchDue(KEYS[12], soonest, now)
  end
end
