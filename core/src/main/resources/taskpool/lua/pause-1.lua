#!lua flags=allow-oom
-- pause-1: an operator pauses a task kind: while its `paused` key exists, the finish script takes
-- nothing from its queue (adds are still accepted within `size`; running tasks finish). A key of
-- its own, so that a runtime publishing its definition never resets it.
-- allow-oom: stopping work must be possible when Redis is full; the record is a few bytes.
--
-- KEYS[1] taskpool:{T}:paused  string, JSON {"by":..,"at":<ms>}
-- ARGV[1] that record
-- ARGV[2] control channel taskpool:{T}:control
-- ARGV[3] the control message {"event":"paused",...}
-- ARGV[4] events: 'heard', 'all', 'sharded' or 'sharded-all' (_events.lua, EventMode)
--
-- Returns {DONE}, or {ALREADY_PAUSED, record} when the kind is already paused (nothing written).
-- Error (nothing changed): "WRONGTYPE <key> holds ..., expected a string".
--@include _codes.lua
--@include _checks.lua
--@include _events.lua
local held = redis.pcall('GET', KEYS[1])
if type(held) == 'table' and held.err then return readFailed(KEYS[1], 'string', held) end
if held then return {REPLY.ALREADY_PAUSED, held} end
redis.call('SET', KEYS[1], ARGV[1])
publishTo(ARGV[4], ARGV[2], nil, ARGV[3])
return {REPLY.DONE}
