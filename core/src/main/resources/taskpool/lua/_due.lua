-- _due: the kind's delayed tasks, the sorted set taskpool:{T}:delayed (id -> due time, epoch ms by
-- Redis' clock, which the caller passes in). Not a script of its own: a script pulls it in with
-- `--@include _due.lua`. A delayed task is WAITING; its hash holds `due_at`, which is left in place
-- when it falls due (moving a million due tasks must not touch a million hashes).
-- Defines: delayTask(delayedKey, wakeKey, id, due), promoteDue(delayedKey, waitingKey, now, limit),
-- nextDue(delayedKey).
-- The caller has checked the types of the keys it passes (see _checks.lua) before its first write.

-- The earliest due time in the set, as a number; false when the set is empty.
local function nextDue(delayedKey)
  local first = redis.call('ZRANGE', delayedKey, 0, 0, 'WITHSCORES')
  return first[2] ~= nil and tonumber(first[2])
end

-- Put `id` in the delayed set, due at `due`. When it becomes the earliest, wake one idle worker:
-- a worker blocked until a later due time (or with nothing due at all) then fetches again and
-- learns the earlier time, so nothing but this add is needed for the task to start on time.
local function delayTask(delayedKey, wakeKey, id, due)
  local earliest = nextDue(delayedKey)
  redis.call('ZADD', delayedKey, due, id)
  if (not earliest or tonumber(due) < earliest) and redis.call('LLEN', wakeKey) == 0 then
    redis.call('RPUSH', wakeKey, '1')
  end
end

-- Move up to `limit` ids that are due (due time <= now) to the waiting queue, earliest first;
-- they join the queue behind the tasks already ready (LPUSH: taken from the right). Bounded, so
-- a million tasks falling due at once move over many short calls instead of one long one.
-- Returns how many moved and the earliest due time still in the set (false if none).
local function promoteDue(delayedKey, waitingKey, now, limit)
  local due = redis.call('ZRANGEBYSCORE', delayedKey, '-inf', now, 'LIMIT', 0, limit)
  if #due > 0 then
    redis.call('ZREM', delayedKey, unpack(due))
    redis.call('LPUSH', waitingKey, unpack(due))
  end
  return #due, nextDue(delayedKey)
end
