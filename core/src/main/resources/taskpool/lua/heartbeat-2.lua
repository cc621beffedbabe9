#!lua flags=allow-oom
-- heartbeat-2: extend the leases a worker still holds; report the ones it lost.
-- allow-oom: a full Redis must not make live runs look dead (see finish-10); ZADD XX adds nothing.
-- The leases key is checked before the first write (a wrong type changes nothing); task hashes
-- are read with pcall, so a key that is no hash counts as a lost lease and fails nothing else.
--
-- KEYS[1] taskpool:{T}:leases  sorted set, id -> lease deadline
-- KEYS[2] taskpool:{T}:task:   prefix of the task hashes
-- ARGV[1] new lease deadline, epoch ms
-- ARGV[2..] pairs: id, lease token
--
-- Returns the ids whose lease is no longer the caller's (their runs must stop).
-- Error (nothing changed): "WRONGTYPE <key> holds ..., expected a sorted set".
local wrong = wrongType(KEYS[1], 'zset')
if wrong then return wrong end
local lost = {}
for i = 2, #ARGV, 2 do
  local id, token = ARGV[i], ARGV[i + 1]
  -- A run holds its lease while the task is RUNNING under its token, "<worker>/<attempt>".
  local state = redis.pcall('HMGET', KEYS[2] .. id, 'status', 'worker', 'attempt')
  if not state.err and state[1] == 'RUNNING' and state[2] and state[3] and state[2] .. '/' .. state[3] == token then
    redis.call('ZADD', KEYS[1], 'XX', ARGV[1], id)
  else
    lost[#lost + 1] = id
  end
end
return lost
