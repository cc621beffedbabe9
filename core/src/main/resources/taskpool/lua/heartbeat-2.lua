#!lua flags=allow-oom
-- heartbeat-2: extend the leases a worker still holds; report the ones it lost, and which of those
-- an operator canceled.
-- allow-oom: a full Redis must not make live runs look dead (see finish-15); ZADD XX adds nothing.
-- The leases key is checked before the first write (a wrong type changes nothing); task hashes
-- are read with pcall, so a key that is no hash counts as a lost lease and fails nothing else.
--
-- KEYS[1] taskpool:{T}:leases  sorted set, id -> lease deadline
-- KEYS[2] taskpool:{T}:task:   prefix of the task hashes
-- ARGV[1] new lease deadline, epoch ms
-- ARGV[2..] pairs: id, lease token
--
-- Returns pairs (id, cancel) for the leases no longer the caller's (their runs must stop): cancel is
-- the error an operator's cancel gave the task ("canceled by X") when it was that run the cancel
-- stopped (the task's `canceled_lease` is its token), "canceled" when the task was retried since,
-- and '' when the lease went otherwise (it expired and the task was recovered).
-- Error (nothing changed): "WRONGTYPE <key> holds ..., expected a sorted set".
--@include _checks.lua
local wrong = wrongType(KEYS[1], 'zset')
if wrong then return wrong end
local lost = {}
for i = 2, #ARGV, 2 do
  local id, token = ARGV[i], ARGV[i + 1]
  local key = KEYS[2] .. id
  -- A run holds its lease while the task is RUNNING under its token, "<worker>/<lease_seq>".
  local state = redis.pcall('HMGET', key, 'status', 'worker', 'lease_seq')
  if not state.err and state[1] == 'RUNNING' and state[2] and state[3] and state[2] .. '/' .. state[3] == token then
    redis.call('ZADD', KEYS[1], 'XX', ARGV[1], id)
  else
    -- (Read only for a lost lease: rare, and never on the path of a run that holds its lease.)
    local cancel = ''
    local history = not state.err and redis.call('HMGET', key, 'canceled_lease', 'canceled_at', 'error')
    if history and history[1] == token then
      cancel = history[2] and history[3] or 'canceled'
    end
    lost[#lost + 1] = id
    lost[#lost + 1] = cancel
  end
end
return lost
