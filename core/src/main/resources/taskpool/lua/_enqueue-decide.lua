-- _enqueue-decide: deciding which of enqueue-10.lua's requests are accepted, and their ids. Not a
-- script of its own (see _checks.lua); it reads enqueue's KEYS and ARGV (see that script's header).
-- Uses REPLY, sliced: include _codes.lua and _enqueue-requests.lua first.
-- Defines: firstExisting(keys), decide(call, checkKeys).

-- The first existing key of keys[from..to]: one EXISTS over them all (a command per slice, not
-- per task); only when it counts a hit are the keys looked at one by one, to name the first.
local function firstExisting(keys)
  if #keys == 0 or sliced('EXISTS', keys) == 0 then return nil end
  for n = 1, #keys do
    if redis.call('EXISTS', keys[n]) == 1 then return n end
  end
end

-- Decides every pending request in order, against the state the accepted ones before it leave.
-- Explicit ids move the counter past the largest of them, so that default ids never land on one;
-- ids taken earlier in the call count as taken. With checkKeys false, no key is looked at (the
-- caller then checks every accepted key with one EXISTS, and decides again with checkKeys true
-- only when one exists), which spares a command per request.
-- `call` holds what the script read: requests, pending (the numbers of the requests to decide),
-- replies (a refusal is written there), size, counterText, waiting (the tasks `size` counts: the
-- ready ones in the queue and the delayed ones), anyGiven, holders (unique key -> id of the task
-- holding it in Redis), stride and offset (a default id is counter * stride + offset: 1 and 0 but
-- for a partition of a partitioned kind, whose ids end in its two-digit number).
-- A task whose unique key is held (in Redis, by a task an earlier request of the call adds, or by
-- an earlier task of its own request) adds nothing: its id in the reply is "=<holder's id>".
local function decide(call, checkKeys)
  local requests, pending, replies = call.requests, call.pending, call.replies
  local size, counterText, waiting, anyGiven = call.size, call.counterText, call.waiting, call.anyGiven
  local stride, offset = call.stride, call.offset
  local plan = {counter = tonumber(counterText), moved = false, waiting = waiting, accepted = {}, keys = {},
    claims = {}, duplicates = 0}
  local taken = {}
  for _, r in ipairs(pending) do
    local request = requests[r]
    local refusal
    -- Its duplicates: n -> the holder's id (a string) or the number of the earlier task of this
    -- request that takes the key.
    local skip, firstOf, skipped = {}, {}, 0
    if request.uniq then
      for n, key in ipairs(request.uniq) do
        local holder = call.holders[key] or plan.claims[key] or firstOf[key]
        if holder then
          skip[n] = holder
          skipped = skipped + 1
        else
          firstOf[key] = n
        end
      end
    end
    local count = (request.to - request.from + 1) / 2 - skipped
    -- (a duplicate adds nothing, so `size` never refuses it)
    local admit = request.admit > 0 and request.admit - skipped or 0
    if admit > 0 and plan.waiting + admit > size then refusal = {REPLY.QUEUE_FULL} end
    local defaults, highest, given, mine = 0, 0, {}, {}
    if not refusal then
      for i = request.from, request.to, 2 do
        local id = ARGV[i]
        if skip[(i - request.from) / 2 + 1] then
          -- (a duplicate: takes no id)
        elseif id == '' then
          defaults = defaults + 1
        elseif taken[id] or mine[id] then
          refusal = {REPLY.ID_TAKEN, id}
          break
        else
          mine[id] = true
          given[#given + 1] = id
          if tonumber(id) > highest then highest = tonumber(id) end
        end
      end
    end
    local givenKeys = {}
    if not refusal and checkKeys and #given > 0 then
      for n, id in ipairs(given) do givenKeys[n] = KEYS[5] .. id end
      local hit = firstExisting(givenKeys)
      if hit then refusal = {REPLY.ID_TAKEN, given[hit]} end
    end
    -- (a partition's counter counts n, its ids are n * stride + offset: the explicit ids move it past them too)
    local first = math.max(plan.counter, highest >= offset and math.floor((highest - offset) / stride) or 0)
    -- Ids end at 2^53-1. Past 2^53 Lua's numbers stop counting (n + 1 == n), so the loop below
    -- would never end and would hold Redis BUSY: a counter at its end (or set past it by hand) refuses.
    if not refusal and defaults > 0 and first > (9007199254740991 - offset) / stride - defaults then
      refusal = {REPLY.IDS_EXHAUSTED, (first == plan.counter and not plan.moved) and counterText or string.format('%d', first), defaults}
    end
    local defaultIds, defaultKeys = {}, {}
    if not refusal then
      for n = 1, defaults do
        defaultIds[n] = string.format('%d', (first + n) * stride + offset)
        defaultKeys[n] = KEYS[5] .. defaultIds[n]
      end
      if checkKeys then
        local hit = firstExisting(defaultKeys)
        if hit then refusal = {REPLY.NEXT_ID_TAKEN, defaultIds[hit]} end
      end
    end
    if refusal then
      replies[r] = refusal
    else
      -- Accepted: its ids in the order given, and the keys they write.
      local ids, keys, used = {}, {}, 0
      for i = request.from, request.to, 2 do
        local n = (i - request.from) / 2 + 1
        local holder = skip[n]
        if holder then
          ids[n], keys[n] = '=' .. (type(holder) == 'number' and ids[holder] or holder), false
        elseif ARGV[i] == '' then
          used = used + 1
          ids[n], keys[n] = defaultIds[used], defaultKeys[used]
        else
          ids[n], keys[n] = ARGV[i], KEYS[5] .. ARGV[i]
        end
        if not holder then
          if anyGiven then taken[ids[n]] = true end
          plan.keys[#plan.keys + 1] = keys[n]
        end
      end
      for key, n in pairs(firstOf) do plan.claims[key] = ids[n] end
      plan.duplicates = plan.duplicates + skipped
      request.ids, request.keys = ids, keys
      local counter = defaults > 0 and first + defaults or first
      if counter ~= plan.counter then plan.counter, plan.moved = counter, true end
      plan.waiting = plan.waiting + count
      plan.accepted[#plan.accepted + 1] = r
      replies[r] = nil
    end
  end
  return plan
end
