-- _checks: the checks every script makes before its first write. Not a script of its own:
-- LuaScript puts this text at the top of each script (after its #!lua line), since Redis scripts
-- cannot load one another. Errors name the key and say that nothing was changed.
local KINDS = {string = 'a string', list = 'a list', set = 'a set', zset = 'a sorted set', hash = 'a hash',
  stream = 'a stream'}
-- nil when `key` is missing or of the `expected` type (a TYPE name: 'hash', 'zset', ...), else the error.
local function wrongType(key, expected)
  local held = redis.call('TYPE', key).ok
  if held == 'none' or held == expected then return nil end
  return redis.error_reply('WRONGTYPE ' .. key .. ' holds ' .. (KINDS[held] or held) .. ', expected ' ..
    KINDS[expected] .. '; nothing was changed')
end
-- The error of a read (redis.pcall) that failed: a wrong type named as such; anything else (an
-- ACL refusal, for instance) passed on as Redis said it, never mistaken for a wrong type.
local function readFailed(key, expected, reply)
  return wrongType(key, expected) or redis.error_reply(reply.err)
end
local function badValue(key, field, value, expected)
  return redis.error_reply('BADVALUE ' .. key .. ' field ' .. field .. " holds '" .. value .. "', expected " ..
    expected .. '; nothing was changed')
end
-- The `succeeded` index is a list of "<finished_at>:<id>" entries, the newest at the right (RPUSH,
-- one batch at a time: an append moves nothing, where a push at the left moves the whole first
-- node, up to 8 KB, for every entry), so the oldest are at the left. Drops from the left the
-- entries finished before `before` (epoch ms), looking at up to `max` of them (an entry that is no
-- "<ms>:<id>", written by hand, goes too). Its first command is a read, which checks the key's
-- type: returns (the error naming the key, nil) when the key is no list, else (nil, entries dropped).
local function pruneFinishedList(key, before, max)
  local first = redis.pcall('LINDEX', key, 0)
  if type(first) == 'table' and first.err and redis.call('TYPE', key).ok == 'zset' then
    -- Left by an older taskpool, where `succeeded` was a sorted set (id -> finished_at): it becomes
    -- the list once, oldest first (one pass, about a microsecond per entry).
    local entries = redis.call('ZRANGEBYSCORE', key, '-inf', '+inf', 'WITHSCORES')
    redis.call('DEL', key)
    local chunk = {}
    for i = 1, #entries, 2 do
      chunk[#chunk + 1] = string.format('%d', tonumber(entries[i + 1])) .. ':' .. entries[i]
      if #chunk == 1000 or i + 1 == #entries then
        redis.call('RPUSH', key, unpack(chunk))
        chunk = {}
      end
    end
    first = redis.call('LINDEX', key, 0)
  end
  if type(first) == 'table' and first.err then return readFailed(key, 'list', first), nil end
  if not first then return nil, 0 end
  local at = tonumber(string.match(first, '^(%d+):'))
  if at and at >= before then return nil, 0 end
  local head = redis.call('LRANGE', key, 0, max - 1)
  local old = 0
  for i = 1, #head do
    at = tonumber(string.match(head[i], '^(%d+):'))
    if at and at >= before then break end
    old = old + 1
  end
  redis.call('LPOP', key, old)
  return nil, old
end
-- Events. A PUBLISH that no subscriber and no pattern would receive reaches no one, yet costs the
-- script the command and, above all, building its JSON message (together about 1.1 µs of Redis
-- CPU per event, three events per task). The hot-path scripts (enqueue, finish) therefore ask
-- first who would hear their events, and build and publish only those. Mode 'heard' (a standalone
-- or Sentinel-managed Redis, where every subscriber of these channels is on this server): every
-- event when any pattern subscription exists (PUBSUB NUMPAT), else those whose channel has a
-- subscriber (one PUBSUB NUMSUB per 500 channels). So a task someone awaits or watches gets every
-- event, in order, and a task nobody listens to costs no PUBLISH. Any other mode ('all': a
-- Cluster, where classic PUBLISH reaches subscribers on every node, which this node cannot
-- count): every event.
-- listenersOf(mode, prefix, ids) is true (every id is heard) or a table id -> true of the ids
-- whose channel prefix .. id has a subscriber; hears(listeners, id) tells one.
-- The questions go through pcall: the scripts ask them after their first write, and a user whose
-- ACL rules predate them (no +pubsub|numpat +pubsub|numsub) must not make a script stop half-way
-- (a fetch that popped its tasks and then failed would lose them); such a user's scripts publish
-- every event, as before.
local patternSubscriptions   -- PUBSUB NUMPAT, asked once per script call (false: refused)
local function listenersOf(mode, prefix, ids)
  if mode ~= 'heard' or #ids == 0 then return true end
  if patternSubscriptions == nil then
    local answer = redis.pcall('PUBSUB', 'NUMPAT')
    patternSubscriptions = type(answer) == 'number' and answer or false
  end
  if patternSubscriptions ~= 0 then return true end
  local heard = {}
  for from = 1, #ids, 500 do
    local channels = {}
    for i = from, math.min(from + 499, #ids) do channels[#channels + 1] = prefix .. ids[i] end
    local counts = redis.pcall('PUBSUB', 'NUMSUB', unpack(channels))
    if type(counts) ~= 'table' or counts.err then return true end
    for i = 2, #counts, 2 do
      if counts[i] > 0 then heard[ids[from + i / 2 - 1]] = true end
    end
  end
  return heard
end
local function hears(listeners, id)
  return listeners == true or listeners[id] == true
end
