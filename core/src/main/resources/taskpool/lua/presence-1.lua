#!lua flags=allow-oom
-- presence-1: a worker says it is alive: its presence record, or its last-seen score, when Redis is
-- full and refused the plain SET or ZADD (those are used otherwise). One key per call: the presence
-- keys have no hash tag, so in a Cluster they live in different slots.
-- allow-oom: workers go on draining the queue when Redis is full (see finish-15), and an operator
-- must still see them; refused, their records would expire and `stats` would show no worker. A
-- record replaces one of about the same size and a score the member's own; a worker that starts
-- while Redis is full adds a few hundred bytes.
--
-- KEYS[1] taskpool:worker:<id> (record) or taskpool:workers (seen)
-- ARGV[1] 'record' or 'seen'
-- record: ARGV[2] the JSON record, ARGV[3] how long it lives, ms
-- seen:   ARGV[2] when, epoch ms, ARGV[3] the worker id
--
-- Returns {DONE}.
-- Error (nothing changed): "WRONGTYPE taskpool:workers holds ..., expected a sorted set".
--@include _codes.lua
--@include _checks.lua
if ARGV[1] == 'record' then
  -- The worker's own key: whatever was written there by hand is replaced, as SET always did.
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
else
  local problem = wrongType(KEYS[1], 'zset')
  if problem then return problem end
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
end
return {REPLY.DONE}
