-- _indexes: the kind's indexes of finished tasks. Not a script of its own (see _checks.lua).
-- Uses readFailed from _checks.lua: include that first.
-- Defines: pruneFinishedList(key, before, max), pruneWrittenIndexes(k, now, keep).
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

-- finish-15's prune of the index its batch writes, once per call: that prune is the index's check
-- (a wrong type fails it, and nothing was written then but entries of tasks already expired, which
-- any call may remove). The other index is left alone (the recoverer prunes both), so the hot path
-- costs no more than that. Reads finish's ARGV (see its header). Returns an error reply, or nil.
local function pruneWrittenIndexes(k, now, keep)
  local endsSuccess, endsFailure = false, false
  for i = 0, k - 1 do
    if ARGV[13 + i * 4] == 'SUCCESS' then endsSuccess = true else endsFailure = true end
  end
  local expiredBefore = tonumber(now) - tonumber(keep)
  if endsSuccess then
    -- (It looks at twice the entries this call adds, so it keeps up with the entries expiring.)
    local problem = pruneFinishedList(KEYS[7], expiredBefore, 2 * k + 10)
    if problem then return problem end
  end
  if endsFailure then
    local pruned = redis.pcall('ZREMRANGEBYSCORE', KEYS[8], '-inf', '(' .. expiredBefore)
    if type(pruned) == 'table' and pruned.err then return readFailed(KEYS[8], 'zset', pruned) end
  end
end
