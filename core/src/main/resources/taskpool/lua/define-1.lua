#!lua
-- define-1: publish a task definition, replacing the previous one as a whole.
-- No allow-oom: when Redis is full a changed definition is refused before anything runs (the old
-- one stays whole). The caller skips this script when the published definition is already the
-- same, so a worker still starts against a full Redis.
--
-- KEYS[1] taskpool:{T}:def  hash of the definition
-- ARGV    field, value, field, value, ...
--
-- Returns {1}. Error (nothing changed): "WRONGTYPE <key> holds ..., expected a hash".
local KINDS = {string = 'a string', list = 'a list', set = 'a set', zset = 'a sorted set', stream = 'a stream'}
local held = redis.call('TYPE', KEYS[1]).ok
if held ~= 'none' and held ~= 'hash' then
  return redis.error_reply('WRONGTYPE ' .. KEYS[1] .. ' holds ' .. (KINDS[held] or held) ..
    ', expected a hash; nothing was changed')
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV))
return {1}
