-- _priority: where a ready task waits. Priority 0 (the default) waits in taskpool:{T}:waiting,
-- priorities 1 to 3 in taskpool:{T}:waiting:<p> (same slot); a fetch takes the highest first (see
-- _flow.lua). Not a script of its own (see _checks.lua). A script that puts a task back in line
-- (a retry, a hand-back, recovery, run-now, an operator's retry) reads its hash's `priority`.
-- Defines: queueOf(waitingKey, priority).

-- The list a ready task of `priority` ('0' to '3', or nil/false: 0) waits in.
local function queueOf(waitingKey, priority)
  if priority == '1' or priority == '2' or priority == '3' then return waitingKey .. ':' .. priority end
  return waitingKey
end
