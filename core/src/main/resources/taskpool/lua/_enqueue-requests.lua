-- _enqueue-requests: reading enqueue-10.lua's requests and their earlier replies. Not a script of its
-- own (see _checks.lua); it reads enqueue's KEYS and ARGV (see that script's header).
-- Uses REPLY: include _codes.lua first.
-- Defines: wrong(key, holds, expected), bad and read(kind, command, key, ...), slice and
-- sliced(command, keys), parseRequests(), earlierReplies(requests, recordKeys),
-- uniqueHolders(requests, pending, byArgs, keepFor).

local function wrong(key, holds, expected)
  return {REPLY.WRONG_TYPE, key, holds, expected}
end

-- Every key is read before the first write, through pcall: a wrong-typed key is then a refusal
-- naming it, not an error halfway through the writes.
local bad
local function read(kind, command, key, ...)
  local value = redis.pcall(command, key, ...)
  if type(value) == 'table' and value.err then
    local held = redis.call('TYPE', key).ok
    -- A key of the right type that still cannot be read (an ACL refusal, say) is no wrong type:
    -- its error is passed on as Redis said it.
    bad = bad or (held == kind and {REPLY.REDIS_REFUSED, value.err}) or wrong(key, 'a ' .. held, 'a ' .. kind)
    return false
  end
  return value
end

-- Keys and ids go to commands in slices, should a caller send a bigger chunk: unpack() of more
-- than a few thousand values overflows Lua's C stack.
local slice = 1000
local function sliced(command, keys)
  local total = 0
  for at = 1, #keys, slice do
    total = total + redis.call(command, unpack(keys, at, math.min(at + slice - 1, #keys)))
  end
  return total
end

-- The requests of ARGV[6..], in the order given. Each: rid, now, due (false: at once), admit,
-- priority (0 to 3), key (false: none), from..to (its pairs in ARGV). Returns the requests and
-- their record keys, or nil and the error reply for a malformed request list (a caller's bug).
local function parseRequests()
  local requests, rids, recordKeys = {}, {}, {}
  local at = 6
  while at <= #ARGV do
    local n = tonumber(ARGV[at + 6])
    local now, due, priority = tonumber(ARGV[at + 1]), tonumber(ARGV[at + 2]), ARGV[at + 4]
    if not n or n < 0 or n % 1 ~= 0 or at + 6 + 2 * n > #ARGV or not tonumber(ARGV[at + 3]) or not now or not due
        or not (priority == '0' or priority == '1' or priority == '2' or priority == '3')
        or (ARGV[at + 5] ~= '' and n ~= 1) then
      return nil, redis.error_reply('ERR enqueue: malformed request at ARGV[' .. at .. '] (request id, now, due, admit,'
        .. ' priority 0-3, key (one task only), n, then n pairs)')
    end
    if rids[ARGV[at]] then
      return nil, redis.error_reply('ERR enqueue: request id ' .. ARGV[at] .. ' is given twice in one call')
    end
    rids[ARGV[at]] = true
    -- Due only when later than the request's now: a due time already past queues the task at once.
    requests[#requests + 1] = {rid = ARGV[at], now = ARGV[at + 1], due = due > now and ARGV[at + 2],
      admit = tonumber(ARGV[at + 3]), priority = priority, key = ARGV[at + 5] ~= '' and ARGV[at + 5],
      from = at + 7, to = at + 6 + 2 * n}
    recordKeys[#recordKeys + 1] = KEYS[6] .. ARGV[at]
    at = at + 7 + 2 * n
  end
  return requests, recordKeys
end

-- Repeated requests get their record. A lone request reads it with GET (a wrong type is then an
-- error, named). Many read theirs with one MGET, which answers nil for a key of another type
-- too: when EXISTS counts more keys than MGET found, the unfound ones are looked at to name it.
-- Returns the replies known so far (by request number) and the numbers of the requests still
-- pending, in order.
local function earlierReplies(requests, recordKeys)
  local replies = {}
  local pending = {}
  if #requests == 1 then
    local earlier = read('string', 'GET', recordKeys[1])
    if bad then return {bad}, pending end
    if earlier then return {cjson.decode(earlier)}, pending end
    pending[1] = 1
  else
    local found = 0
    for from = 1, #recordKeys, slice do
      local values = redis.call('MGET', unpack(recordKeys, from, math.min(from + slice - 1, #recordKeys)))
      for i = 1, #values do
        if values[i] then
          found = found + 1
          replies[from + i - 1] = cjson.decode(values[i])
        end
      end
    end
    if sliced('EXISTS', recordKeys) > found then
      for r = 1, #requests do
        if not replies[r] then
          local held = redis.call('TYPE', recordKeys[r]).ok
          if held ~= 'none' then replies[r] = wrong(recordKeys[r], 'a ' .. held, 'a string') end
        end
      end
    end
    for r = 1, #requests do
      if not replies[r] then pending[#pending + 1] = r end
    end
  end
  return replies, pending
end

-- The unique keys of the pending requests' tasks (request.uniq[n]: its `key` option, or
-- "args:<sha1 of its args>" for a kind unique by its arguments) and the tasks that hold them in
-- Redis: returns key -> the holder's id, for each key still held. A key is held while its task is
-- WAITING or RUNNING, and for `keepFor` ms after the task ended; a key whose task is gone (expired,
-- deleted by hand) or ended longer ago is free, and the add that finds it so takes it over (the
-- key heals itself). Reads only: the type check of each key is its GET.
local function uniqueHolders(requests, pending, byArgs, keepFor)
  local holders, looked = {}, {}
  for _, r in ipairs(pending) do
    local request = requests[r]
    if request.key or byArgs then
      request.uniq = {}
      for i = request.from, request.to, 2 do
        local n = (i - request.from) / 2 + 1
        local key = request.key or ('args:' .. redis.sha1hex(ARGV[i + 1]))
        request.uniq[n] = key
        if not looked[key] then
          looked[key] = true
          local id = read('string', 'GET', KEYS[10] .. key)
          if id and string.match(id, '^[1-9]%d*$') and #id <= 16 then
            local task = redis.pcall('HMGET', KEYS[5] .. id, 'status', 'finished_at')
            if type(task) == 'table' and not task.err then
              local status, finished = task[1], tonumber(task[2] or '')
              if status == 'WAITING' or status == 'RUNNING'
                  or ((status == 'SUCCESS' or status == 'FAILURE') and finished and finished + keepFor > tonumber(request.now)) then
                holders[key] = id
              end
            end
          end
        end
      end
    end
  end
  return holders
end
