#!lua flags=allow-oom
-- heal-delayed-2: the recoverer's check of the delayed set. An entry of `delayed` names a WAITING
-- task that waits for its due time; one whose task is gone (deleted or expired by hand), is no
-- hash, is no task id, or is not WAITING (a script of an older version, a hand edit) would count
-- in `stats`, hold a place under `size` and be moved to the queue for nothing when it falls due.
-- Such entries are removed here, a bounded window per call: the caller walks the set by rank,
-- window after window, and starts over at the end, so a large set is checked over many short
-- calls and no call holds Redis for long. Ranks shift as tasks come and go; an entry missed in
-- one round is met in the next.
-- allow-oom: it only removes entries.
-- All or nothing: the only key it writes is checked before its first write.
--
-- KEYS[1] taskpool:{T}:delayed   sorted set, id -> due time of the delayed tasks
-- KEYS[2] taskpool:{T}:task:     prefix of the task hashes
-- ARGV[1] the rank to start at (0: the earliest due)
-- ARGV[2] the most entries to check
--
-- Returns {the rank to start the next call at (0 when this window reached the end), then pairs:
-- removed member, reason}.
-- Errors (nothing changed): "WRONGTYPE <key> holds ..., expected ...".
--@include _checks.lua
local start, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local ids = redis.pcall('ZRANGE', KEYS[1], start, start + limit - 1)
if ids.err then return readFailed(KEYS[1], 'zset', ids) end

local removed = {}
for _, id in ipairs(ids) do
  local reason
  if #id > 16 or not string.match(id, '^[1-9]%d*$') or tonumber(id) > 9007199254740991 then
    reason = 'not a task id (an integer from 1 to 2^53-1)'
  else
    local key = KEYS[2] .. id
    local status = redis.pcall('HGET', key, 'status')
    if type(status) == 'table' and status.err then
      reason = key .. ' holds ' .. (KINDS[redis.call('TYPE', key).ok] or 'something else') .. ', not a task hash'
    elseif not status then
      reason = 'its task hash ' .. key .. ' is gone (deleted, or expired)'
    elseif status ~= 'WAITING' then
      reason = 'the task is ' .. status .. ', not WAITING'
    end
  end
  if reason then
    removed[#removed + 1] = id
    removed[#removed + 1] = reason
  end
end
for i = 1, #removed, 2 do redis.call('ZREM', KEYS[1], removed[i]) end
-- The entries removed here were before the next window: it starts that many ranks earlier.
local nextStart = 0
if #ids == limit then nextStart = start + limit - #removed / 2 end
local out = {nextStart}
for _, entry in ipairs(removed) do out[#out + 1] = entry end
return out
