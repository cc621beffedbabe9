-- _schedule: a schedule's state hash (taskpool:{T}:schedule:<id> for a task schedule, in its kind's
-- slot; taskpool:schedule:<id> for a process schedule). Not a script of its own (see _checks.lua).
-- Uses readFailed: include _checks.lua first.
-- Defines: readSchedule(key), stillDue(state, mode, expected), moveOn(key, mode, fireAt, nextAt).
--
-- The fields: next_fire_at (epoch ms of the next slot; absent while stopped or when the cron never
-- fires again), timing (the cron and zone next_fire_at was computed from), stopped ('1'),
-- stopped_by/at, started_by/at, trigger_at/trigger_by (an operator's pending extra firing),
-- last_fire_at (the slot or trigger time last fired), last_task, last_error, fired, skipped.
-- A firing is a compare-and-set: the caller says which value it fires (`expected`: the
-- next_fire_at or trigger_at it read), and only the first call that finds it still there fires;
-- every other worker's call, and a re-sent one, finds it moved and changes nothing.
-- Modes: 'slot' (a due slot fires), 'trigger' (the pending trigger fires), 'skip' (missed slots
-- pass without firing). A firing the caller could not prepare (an $ENV reference not set) passes
-- too, its error recorded in last_error.

-- The state, or nil and the error when the key holds no hash.
local function readSchedule(key)
  local values = redis.pcall('HMGET', key, 'next_fire_at', 'trigger_at', 'stopped', 'last_task')
  if type(values) == 'table' and values.err then return nil, readFailed(key, 'hash', values) end
  return {next = values[1], trigger = values[2], stopped = values[3] == '1', lastTask = values[4]}
end

-- Whether the firing the caller read is still to be made (nobody made it, nor stopped the schedule
-- meanwhile). A trigger fires even while the schedule is stopped: an operator asked for it.
local function stillDue(state, mode, expected)
  if mode == 'trigger' then return state.trigger == expected end
  return not state.stopped and state.next == expected
end

-- The firing is made (or passed): the next slot (or the trigger) is taken, so no other call makes it.
local function moveOn(key, mode, fireAt, nextAt)
  if mode == 'trigger' then
    redis.call('HDEL', key, 'trigger_at', 'trigger_by')
  elseif nextAt == '0' then
    redis.call('HDEL', key, 'next_fire_at')
  else
    redis.call('HSET', key, 'next_fire_at', nextAt)
  end
  if mode == 'skip' then
    redis.call('HINCRBY', key, 'skipped', 1)
    return
  end
  redis.call('HSET', key, 'last_fire_at', fireAt)
  redis.call('HINCRBY', key, 'fired', 1)
end
