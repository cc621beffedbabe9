#!lua flags=no-writes
-- succeeded-page-1: a read of one page of the `succeeded` list for an operator's listing, newest
-- first, done in one script so that a finish or recover pruning the list from the left between
-- finding the cursor and reading the page cannot shift the page (a listing in two round trips
-- repeated entries). Writes nothing.
-- The cursor is the last entry a page listed. Found: the page is what lies left of it. Gone
-- (deleted, or pruned past retention): the page starts left of the first entry that finished
-- after the cursor's time, so that entries of its own time may be listed twice but none is
-- skipped. Entries are in finish order, so both searches bisect by time (LINDEX), and the cursor
-- is looked for among the entries of its own time (LRANGE of those); only when it is not there
-- (entries a little out of time order, or the cursor gone) is the list scanned for it (LPOS).
--
-- KEYS[1] taskpool:{T}:succeeded  list, "<finished_at>:<id>", oldest at the left
-- ARGV[1] the cursor ("<finished_at>:<id>"), or '' for the newest entries
-- ARGV[2] how many entries to return at most (>= 1)
--
-- Returns the entries, oldest first (the page is their reverse), possibly none.
-- Errors: "WRONGTYPE <key> holds ..., expected a list" (e.g. a sorted set left by an older version).
--@include _checks.lua
local problem = wrongType(KEYS[1], 'list')
if problem then return problem end
local key, cursor, want = KEYS[1], ARGV[1], tonumber(ARGV[2])
local length = redis.call('LLEN', key)

-- The time of entry `index` (an entry that is no "<ms>:<id>", written by hand, counts as old).
local function timeAt(index)
  return tonumber(string.match(redis.call('LINDEX', key, index) or '', '^(%d+):')) or 0
end
-- The first index whose time is above `t` (when `strictly`) or at least `t`; `length` when none.
local function firstAfter(t, strictly)
  local low, high = 0, length
  while low < high do
    local middle = math.floor((low + high) / 2)
    local at = timeAt(middle)
    if at > t or (not strictly and at == t) then high = middle else low = middle + 1 end
  end
  return low
end

local last   -- the index of the newest entry of the page
if cursor == '' then
  last = length - 1
else
  local t = tonumber(string.match(cursor, '^(%d+):')) or 0
  local from, to = firstAfter(t, false), firstAfter(t, true)
  local found
  if to > from then
    local sameTime = redis.call('LRANGE', key, from, to - 1)
    for i = #sameTime, 1, -1 do
      if sameTime[i] == cursor then found = from + i - 1 break end
    end
  end
  -- Not among the entries of its time: the list is a little out of time order there (two finish
  -- calls of one worker in flight at once can land in either order; workers' clocks differ), so
  -- the cursor is looked for by value from the newest end before it counts as gone.
  found = found or redis.call('LPOS', key, cursor, 'RANK', -1)
  last = found and found - 1 or to - 1
end
if last < 0 or want < 1 then return {} end
return redis.call('LRANGE', key, math.max(0, last - want + 1), last)
