#!lua
-- define-2: publish a task definition, replacing the previous one as a whole, and copy its flow
-- controls (max_running, rate_limit, rate_per, unique_for) to the kind's `flow` hash, which every fetch reads:
-- a changed cap or rate reaches every running worker at its next fetch. The `flow` hash keeps its
-- state fields (held_until, held_reason, priorities, prio_turn); a kind with no control and no
-- state has no `flow` key (Redis drops an empty hash), so its fetches read nothing more.
-- No allow-oom: when Redis is full a changed definition is refused before anything runs (the old
-- one stays whole). The caller skips this script when the published definition is already the
-- same, so a worker still starts against a full Redis.
--
-- KEYS[1] taskpool:{T}:def   hash of the definition
-- KEYS[2] taskpool:{T}:flow  hash, the flow controls and their state
-- ARGV    field, value, field, value, ...
--
-- Returns {DONE}. Error (nothing changed): "WRONGTYPE <key> holds ..., expected a hash".
--@include _codes.lua
--@include _checks.lua
local wrong = wrongType(KEYS[1], 'hash') or wrongType(KEYS[2], 'hash')
if wrong then return wrong end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV))
local controls = {max_running = true, rate_limit = true, rate_per = true, unique_for = true}
local set = {}
for at = 1, #ARGV, 2 do
  if controls[ARGV[at]] then
    set[#set + 1] = ARGV[at]
    set[#set + 1] = ARGV[at + 1]
  end
end
redis.call('HDEL', KEYS[2], 'max_running', 'rate_limit', 'rate_per', 'unique_for')
if #set > 0 then redis.call('HSET', KEYS[2], unpack(set)) end
return {REPLY.DONE}
