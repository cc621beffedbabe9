#!lua
-- define-1: publish a task definition, replacing the previous one as a whole.
-- No allow-oom: when Redis is full a changed definition is refused before anything runs (the old
-- one stays whole). The caller skips this script when the published definition is already the
-- same, so a worker still starts against a full Redis.
--
-- KEYS[1] taskpool:{T}:def  hash of the definition
-- ARGV    field, value, field, value, ...
--
-- Returns {DONE}. Error (nothing changed): "WRONGTYPE <key> holds ..., expected a hash".
--@include _codes.lua
--@include _checks.lua
local wrong = wrongType(KEYS[1], 'hash')
if wrong then return wrong end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV))
return {REPLY.DONE}
