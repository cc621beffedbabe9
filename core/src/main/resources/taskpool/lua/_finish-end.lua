-- _finish-end: step 1 of finish-15.lua, ending the runs the worker reports. Not a script of its
-- own (see _checks.lua); it reads finish's KEYS and ARGV (see that script's header).
-- Uses REPLY, listenersOf, hears, publishEvent, successEvent, failureEvent: include _codes.lua and _events.lua first.
-- Defines: releaseUnique(key, id, now), endRuns(out, k, now, task, events, keep, eventMode, kindEvents).

-- A task with a unique key that ended: the key stays held `unique_for` ms (the `flow` hash holds
-- it, copied from the definition), or is freed at once, if it is still the task's own.
local function releaseUnique(key, id, now)
  local unique = KEYS[15] .. key
  if redis.pcall('GET', unique) ~= id then return end
  local keepFor = redis.pcall('HGET', KEYS[13], 'unique_for')
  keepFor = type(keepFor) == 'string' and tonumber(keepFor) or 0
  if keepFor > 0 then redis.call('PEXPIRE', unique, string.format('%d', keepFor)) else redis.call('DEL', unique) end
end

-- Ends the k runs of ARGV[11..], appending one reply code per run to `out`; returns how many it ended. The usual case costs
-- one read: the task is RUNNING under the run's token ("<worker id>/<lease number>": its `worker`
-- and `lease_seq`). After the run ended it, the same fields recognise a repeat (ALREADY_DONE),
-- unless a cancel (`canceled_at`) or the recoverer (`lost_at`) ended it instead: then the run had
-- lost it. `task` is the task id JSON-encoded; `events` the prefix of the event channels.
local function endRuns(out, k, now, task, events, keep, eventMode, kindEvents)
  local succeeded, failed, ended, succeededIndex, failedIndex = 0, 0, {}, {}, {}
  local ending = {}   -- (the ids are gathered only when events are filtered)
  if eventMode == 'heard' or eventMode == 'sharded' then
    for i = 0, k - 1 do ending[#ending + 1] = ARGV[11 + i * 4] end
  end
  local endHeard = listenersOf(eventMode, events, ending, kindEvents)
  for i = 0, k - 1 do
    local base = 11 + i * 4
    local id, token, status, payload = ARGV[base], ARGV[base + 1], ARGV[base + 2], ARGV[base + 3]
    local key = KEYS[4] .. id
    local result
    local state = redis.pcall('HMGET', key, 'status', 'worker', 'lease_seq', 'attempt', 'key')
    local held = not state.err and state[2] and state[3] and state[2] .. '/' .. state[3] == token
    if state.err then
      result = REPLY.TASK_MISSING   -- the key is no task hash: there is no task to end
    elseif held and state[1] == 'RUNNING' then
      local message
      if status == 'SUCCESS' then
        redis.call('HSET', key, 'status', status, 'response', payload, 'finished_at', now)
        succeededIndex[#succeededIndex + 1] = now .. ':' .. id
        if hears(endHeard, id) then
          message = successEvent(task, id, string.format('%d', tonumber(state[4]) or 0), payload, now)
        end
        succeeded = succeeded + 1
      else
        redis.call('HSET', key, 'status', status, 'error', payload, 'finished_at', now)
        failedIndex[#failedIndex + 1] = now
        failedIndex[#failedIndex + 1] = id
        if hears(endHeard, id) then
          message = failureEvent(task, id, string.format('%d', tonumber(state[4]) or 0), payload, now)
        end
        failed = failed + 1
      end
      redis.call('PEXPIRE', key, keep)
      if state[5] then releaseUnique(state[5], id, now) end
      if message then publishEvent(endHeard, id, message) end
      ended[#ended + 1] = id
      result = REPLY.DONE
    elseif not state[1] then
      result = REPLY.TASK_MISSING
    elseif held and (state[1] == 'SUCCESS' or state[1] == 'FAILURE') then
      local lost = redis.call('HMGET', key, 'canceled_at', 'lost_at')
      result = (lost[1] or lost[2]) and REPLY.LEASE_LOST or REPLY.ALREADY_DONE
    else
      result = REPLY.LEASE_LOST
    end
    out[#out + 1] = result
  end
  if #ended > 0 then redis.call('ZREM', KEYS[2], unpack(ended)) end
  if succeeded > 0 then redis.call('HINCRBY', KEYS[6], 'succeeded', succeeded) end
  if failed > 0 then redis.call('HINCRBY', KEYS[6], 'failed', failed) end
  -- The indexes: one command each (k is at most a few hundred: unpack stays far from Lua's stack
  -- limit). `succeeded` is a list: an entry costs a few bytes in its listpack and an append no search,
  -- where a sorted-set entry costs about 100 bytes of skiplist and dictionary.
  if #succeededIndex > 0 then redis.call('RPUSH', KEYS[7], unpack(succeededIndex)) end
  if #failedIndex > 0 then redis.call('ZADD', KEYS[8], unpack(failedIndex)) end
  return #ended
end
