-- schedule-fire-8: one firing of a task schedule: compares and sets the schedule's next fire time
-- (or its pending trigger) and adds the task, in one call, so a firing adds exactly one task
-- however many workers try, and a re-sent call adds nothing (it finds the slot moved on). The task
-- is a normal WAITING task made as an add makes it (`size` counted over the ready and the delayed,
-- the id from the kind's counter, `stats.added`, the `added` event): the id decision is
-- _enqueue-decide.lua's, for one request. Its hash also holds `schedule` and `fire_at`. A firing
-- that cannot add its task (queue full, kind never published, a wrong-typed key of the kind, the
-- previous task still running with overlap off) records `last_error` and still moves on.
--
-- KEYS[1] taskpool:{T}:def      hash, the published definition (`size`; `id_stride`, `id_offset` of a partitioned kind)
-- KEYS[2] taskpool:{T}:seq      string, the id counter
-- KEYS[3] taskpool:{T}:waiting  list, the ready queue (LPUSH)
-- KEYS[4] taskpool:{T}:wake     list, the wake token for idle workers
-- KEYS[5] taskpool:{T}:task:    prefix of the task hashes; the script appends the id
-- KEYS[6] taskpool:{T}:delayed  sorted set, the delayed tasks (counted by `size`)
-- KEYS[7] taskpool:{T}:stats    hash of counters (`added`)
-- KEYS[8] taskpool:{T}:schedule:<id>  hash, the schedule's state (see _schedule.lua)
-- ARGV[1] task id T   ARGV[2] event channel prefix taskpool:{T}:events:   ARGV[3] events: 'heard', 'all', 'sharded' or 'sharded-all' (_events.lua, EventMode)
-- ARGV[4] schedule id
-- ARGV[5] mode: 'slot', 'trigger' or 'skip' (see _schedule.lua)
-- ARGV[6] expected: the next_fire_at (or trigger_at) the caller read and fires
-- ARGV[7] fire_at: the slot (or trigger time) the task stands for, epoch ms
-- ARGV[8] the next slot after this firing, epoch ms ('0': none); unused for a trigger
-- ARGV[9] now (epoch ms: the task's created_at)
-- ARGV[10] overlap: '1' allowed, '0' skip while the last firing's task is WAITING or RUNNING
-- ARGV[11] '' (the task's id: the next value of the counter, as an add without an id)
-- ARGV[12] args (a JSON array, $ENV references already resolved)
-- ARGV[13] '' or why the caller could not prepare the firing (recorded; no task is added)
-- ARGV[14] the kind's events channel taskpool:{T}:events (a Cluster's events go there too)
-- Returns {DONE, id} (the task added), {DONE, 0, why} (the firing passed without a task: why is
-- '' for a skip), {ALREADY_DONE} (another call made this firing, or the schedule is stopped:
-- nothing written), or an error reply (WRONGTYPE) when the state key holds no hash.
--@include _codes.lua
--@include _checks.lua
--@include _events.lua
--@include _enqueue-requests.lua
--@include _enqueue-decide.lua
--@include _schedule.lua
local mode, fireAt, nextAt, now = ARGV[5], ARGV[7], ARGV[8], ARGV[9]
local state, failed = readSchedule(KEYS[8])
if not state then return failed end
if not stillDue(state, mode, ARGV[6]) then return {REPLY.ALREADY_DONE} end

-- A firing that makes no task still moves on, so the next one is not held up, and says why.
local function noTask(why)
  moveOn(KEYS[8], mode, fireAt, nextAt)
  if why then redis.call('HSET', KEYS[8], 'last_error', why) end
  return {REPLY.DONE, 0, why or ''}
end
if mode == 'skip' then return noTask(nil) end
if ARGV[13] ~= '' then return noTask(ARGV[13]) end
if ARGV[10] == '0' and state.lastTask then
  local status = redis.pcall('HGET', KEYS[5] .. state.lastTask, 'status')
  if status == 'WAITING' or status == 'RUNNING' then
    return noTask('overlap: task ' .. state.lastTask .. ' of the previous firing is still ' .. status ..
      '; the firing of ' .. fireAt .. ' was skipped')
  end
end

local def = read('hash', 'HMGET', KEYS[1], 'size', 'id_stride', 'id_offset') or {}
local size = def[1]
local counterText = read('string', 'GET', KEYS[2])
local ready = read('list', 'LLEN', KEYS[3])
local tokens = read('list', 'LLEN', KEYS[4])
local delayed = read('zset', 'ZCARD', KEYS[6])
-- (`size` counts the ready tasks of priorities 1-3 too, in KEYS[3] .. ':' .. p)
local levels = {KEYS[3] .. ':1', KEYS[3] .. ':2', KEYS[3] .. ':3'}
if redis.call('EXISTS', unpack(levels)) > 0 then
  for _, level in ipairs(levels) do ready = (read('list', 'LLEN', level) or 0) + (ready or 0) end
end
local added = read('hash', 'HGET', KEYS[7], 'added')
if bad then
  if bad[1] == REPLY.WRONG_TYPE then return noTask(bad[2] .. ' holds ' .. bad[3] .. ', expected ' .. bad[4]) end
  return noTask('Redis refused: ' .. tostring(bad[2]))
end
if not size then return noTask('task ' .. ARGV[1] .. ' was never published (no worker with it has started)') end
if not tonumber(size) then return noTask(KEYS[1] .. " field size holds '" .. size .. "', expected an integer") end
counterText = counterText or '0'
if not counterText:match('^%d+$') then return noTask(KEYS[2] .. " holds '" .. counterText .. "', expected an integer") end
if added and not added:match('^%d+$') then return noTask(KEYS[7] .. " field added holds '" .. added .. "', expected an integer") end

local call = {requests = {{rid = '', now = now, admit = 1, from = 11, to = 12}}, pending = {1}, replies = {},
  size = tonumber(size), counterText = counterText, waiting = ready + delayed, anyGiven = false,
  stride = tonumber(def[2] or '1') or 1, offset = tonumber(def[3] or '0') or 0}
local plan = decide(call, true)
if #plan.accepted == 0 then
  local refusal = call.replies[1]
  if refusal[1] == REPLY.QUEUE_FULL then
    return noTask('the queue of task ' .. ARGV[1] .. ' is full (size ' .. size .. ', ' .. (ready + delayed) .. ' waiting)')
  elseif refusal[1] == REPLY.NEXT_ID_TAKEN then
    return noTask('the id counter ' .. KEYS[2] .. ' gives id ' .. refusal[2] .. ', which a task already has')
  end
  return noTask('the default ids of task ' .. ARGV[1] .. ' are used up (counter ' .. tostring(refusal[2]) .. ')')
end

local request = call.requests[1]
local id, key = request.ids[1], request.keys[1]
redis.call('HINCRBY', KEYS[7], 'added', 1)
if plan.moved then redis.call('SET', KEYS[2], string.format('%d', plan.counter)) end
redis.call('HSET', key, 'status', 'WAITING', 'args', ARGV[12], 'created_at', now, 'schedule', ARGV[4], 'fire_at', fireAt)
local listeners = listenersOf(ARGV[3], ARGV[2], {id}, ARGV[14])
if hears(listeners, id) then publishEvent(listeners, id, addedEvent(cjson.encode(ARGV[1]), id, now)) end
redis.call('LPUSH', KEYS[3], id)
if ready == 0 and tokens == 0 then redis.call('RPUSH', KEYS[4], '1') end
moveOn(KEYS[8], mode, fireAt, nextAt)
redis.call('HSET', KEYS[8], 'last_task', id)
redis.call('HDEL', KEYS[8], 'last_error')
return {REPLY.DONE, tonumber(id)}
