-- _flow: the flow controls of a kind, enforced when a fetch takes tasks: `max_running` (the
-- most RUNNING at once over all workers), `rate_limit` per `rate_per` ms (a sliding log of the
-- starts), `held_until` (a processor said the service it calls limits it) and priorities (lists
-- KEYS waiting .. ':1' to ':3' beside the default queue). Not a script of its own (see
-- _checks.lua): finish-15.lua includes it. All in the `flow` hash, which exists only for a kind
-- that uses one, so a kind with none pays nothing for them.
-- Uses readFailed: include _checks.lua first.
-- Defines: RATE_MARGIN, FLOW_FIELDS, PRIORITY_TURN, readyQueues(waitingKey, prioritized), readyCount(queues),
-- readFlow(flowKey, rateKey), takeUnderFlow(flow, keys, queues, max, now),
-- recordStarts(rateKey, flow, taken, leases, now), wakeForFreedSlots(flowKey, leasesKey, wakeKey, waitingKey).

-- How long a start stays in the rate log after it left the window, ms: calls run in the order Redis
-- gets them, not in the order of their `now`, and one whose `now` is older than another's by up to
-- this still finds every start of its window.
local RATE_MARGIN = 10000
-- The fields of the `flow` hash a fetch reads, in this order.
local FLOW_FIELDS = {'max_running', 'rate_limit', 'rate_per', 'held_until', 'priorities', 'prio_turn'}
-- Every PRIORITY_TURN-th start made while two or more levels have tasks waiting is reserved, in
-- turn, for level 0, 1, 2 and 3 (when that level has tasks; else it goes highest first): a level
-- with tasks waiting gets at least one start in every 4 * PRIORITY_TURN, whatever waits above it.
local PRIORITY_TURN = 8

-- The ready lists, highest level first, and their lengths (each LLEN through pcall: its type check).
-- Returns queues ({key, length} per level, 3 to 0), or nil and the error reply.
local function readyQueues(waitingKey, prioritized)
  local keys = prioritized and {waitingKey .. ':3', waitingKey .. ':2', waitingKey .. ':1', waitingKey} or {waitingKey}
  local queues = {}
  for i, key in ipairs(keys) do
    local length = redis.pcall('LLEN', key)
    if type(length) == 'table' and length.err then return nil, readFailed(key, 'list', length) end
    queues[i] = {key = key, length = length}
  end
  return queues
end

local function readyCount(queues)
  local total = 0
  for _, queue in ipairs(queues) do total = total + queue.length end
  return total
end

-- Pops up to `allowed` ids from the ready lists: the highest level first, but for the reserved
-- turns (see PRIORITY_TURN). Returns the ids and the turn counter after them.
local function popByPriority(queues, allowed, turn)
  local ids = {}
  while #ids < allowed do
    local top, levels = nil, 0
    for i, queue in ipairs(queues) do
      if queue.length > 0 then
        levels = levels + 1
        top = top or i
      end
    end
    if not top then break end
    local pick = top
    if levels > 1 then
      turn = turn + 1
      if turn % PRIORITY_TURN == 0 then
        local reserved = #queues - ((turn / PRIORITY_TURN - 1) % #queues)   -- level 0, 1, 2, 3 in turn
        if queues[reserved].length > 0 then pick = reserved end
      end
      local id = redis.call('RPOP', queues[pick].key)
      queues[pick].length = queues[pick].length - 1
      ids[#ids + 1] = id
    else
      -- One level left: the rest from it at once.
      local popped = redis.call('RPOP', queues[pick].key, math.min(allowed - #ids, queues[pick].length))
      queues[pick].length = queues[pick].length - #popped
      for _, id in ipairs(popped) do ids[#ids + 1] = id end
    end
  end
  return ids, turn
end

-- Takes up to `max` ready ids from `queues` (readyQueues) within the kind's controls (flow: the
-- FLOW_FIELDS values, read with HMGET). keys: {leases, rate, flow}, each checked by the caller
-- (the rate set by type). Call it after the runs of the call ended, so that their leases are
-- gone from the count. Returns ids (possibly empty) and until: the time (epoch ms) the kind may
-- start more (the end of a hold or of the rate window), or false when it is not held back or
-- nothing is ready.
local function takeUnderFlow(flow, keys, queues, max, now)
  now = tonumber(now)
  if readyCount(queues) == 0 then return {}, false end
  local allowed, untilTime = max, false
  local held = tonumber(flow[4] or '')
  if held and held > now then allowed, untilTime = 0, held end
  local cap = tonumber(flow[1] or '')
  if cap and allowed > 0 then
    allowed = math.min(allowed, math.max(0, cap - redis.call('ZCARD', keys[1])))
  end
  local limit, per = tonumber(flow[2] or ''), tonumber(flow[3] or '')
  if limit and per and allowed > 0 then
    -- The window is (now - per, now]; starts stamped later than now (a call sent after this one
    -- but run before it) stay in it and count. Only starts older than the window by RATE_MARGIN
    -- are dropped: a call sent a moment before another but run after it judges by its older `now`,
    -- and must still find the starts of its own window (its stamps keep the limit by start time).
    local from = string.format('%d', now - per)
    redis.call('ZREMRANGEBYSCORE', keys[2], '-inf', string.format('%d', now - per - RATE_MARGIN))
    local count = redis.call('ZCOUNT', keys[2], '(' .. from, '+inf')
    if count >= limit then
      -- A start is allowed again when the (count - limit + 1)-th oldest of the window leaves it.
      local freeing = redis.call('ZRANGEBYSCORE', keys[2], '(' .. from, '+inf', 'WITHSCORES', 'LIMIT', count - limit, 1)
      allowed, untilTime = 0, math.max(now + 1, tonumber(freeing[2]) + per)
    else
      allowed = math.min(allowed, limit - count)
    end
  end
  if allowed <= 0 then return {}, untilTime end
  local turn = tonumber(flow[6] or '0') or 0
  local ids, after = popByPriority(queues, allowed, turn)
  if after ~= turn then redis.call('HSET', keys[3], 'prio_turn', after) end
  return ids, false
end

-- Stamps the runs just started in the rate window's log ("<id>:<lease number>" -> now), which
-- lives a window and RATE_MARGIN past the last start.
local function recordStarts(rateKey, flow, taken, leases, now)
  local per = tonumber(flow[3] or '')
  if not (tonumber(flow[2] or '') and per) or #taken == 0 then return end
  local entries = {}
  for n, id in ipairs(taken) do
    entries[#entries + 1] = now
    entries[#entries + 1] = id .. ':' .. leases[n]
  end
  redis.call('ZADD', rateKey, unpack(entries))
  redis.call('PEXPIRE', rateKey, string.format('%d', per + RATE_MARGIN + 1000))
end

-- The FLOW_FIELDS of the `flow` hash, or false when it holds nothing a fetch enforces (`unique_for`
-- alone: the plain pop); with controls, the rate set's type is checked too. Returns flow, or false
-- and an error reply (a key of the wrong type).
local function readFlow(flowKey, rateKey)
  local flow = redis.pcall('HMGET', flowKey, unpack(FLOW_FIELDS))
  if flow.err then return false, readFailed(flowKey, 'hash', flow) end
  if not (flow[1] or flow[2] or flow[4] or flow[5]) then return false end
  return flow, wrongType(rateKey, 'zset')
end

-- Runs ended under a cap by a worker that takes nothing now (it is stopping): their slots go to
-- one idle worker, woken by a token, when tasks are ready (in waitingKey or its priority lists).
local function wakeForFreedSlots(flowKey, leasesKey, wakeKey, waitingKey)
  if redis.call('EXISTS', flowKey) == 0 then return end
  local cap = redis.pcall('HGET', flowKey, 'max_running')
  if type(cap) == 'string' and tonumber(cap) and redis.call('ZCARD', leasesKey) < tonumber(cap)
      and redis.call('EXISTS', waitingKey, waitingKey .. ':1', waitingKey .. ':2', waitingKey .. ':3') > 0
      and redis.pcall('LLEN', wakeKey) == 0 then
    redis.call('RPUSH', wakeKey, '1')
  end
end
