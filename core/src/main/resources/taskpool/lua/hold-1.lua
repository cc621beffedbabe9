#!lua flags=allow-oom
-- hold-1: a processor said the service its kind calls limits it (RateLimited) in a run of one
-- partition of a partitioned kind; retry-7 held that partition back, and this holds each other
-- partition back the same way: no task of it starts before `held_until`. A later hold never
-- shortens an earlier one. allow-oom: holding back writes a few bytes and must work when Redis is
-- full (it lowers the load).
--
-- KEYS[1] taskpool:{T~k}:flow  hash, the partition's flow controls and their state
-- ARGV[1] until, epoch ms (Redis' clock)
-- ARGV[2] the reason (the processor's message), at most 200 characters kept
--
-- Returns {DONE} (held until ARGV[1] or later). Error (nothing changed): "WRONGTYPE <key> holds ..., expected a hash".
--@include _codes.lua
--@include _checks.lua
local wrong = wrongType(KEYS[1], 'hash')
if wrong then return wrong end
local held = tonumber(redis.call('HGET', KEYS[1], 'held_until') or '')
if not held or held < tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'held_until', ARGV[1], 'held_reason', string.sub(ARGV[2], 1, 200))
end
return {REPLY.DONE}
