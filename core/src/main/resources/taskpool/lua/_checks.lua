-- _checks: the checks a script makes before its first write. Not a script of its own: a script
-- pulls it in with `--@include _checks.lua` (LuaSource puts the text in at load time, since Redis
-- scripts cannot load one another). Errors name the key and say that nothing was changed.
-- Defines: KINDS, wrongType(key, expected), readFailed(key, expected, reply),
-- badValue(key, field, value, expected), notCounter(key, fields, values).
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
-- The error for the first of `values` (read from the hash `key`, field fields[i]) that is no integer; nil if none.
local function notCounter(key, fields, values)
  for i, value in ipairs(values) do
    if value and not string.match(value, '^-?%d+$') then
      return badValue(key, fields[i], value, 'an integer')
    end
  end
end
