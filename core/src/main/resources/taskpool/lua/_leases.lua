-- _leases: the kind's `leases` sorted set (id -> lease deadline, epoch ms). Not a script of its own
-- (see _checks.lua).
-- Defines: addLeases(key, deadline, ids).

-- Gives every id of `ids` (a list of task ids, not changed) the lease deadline `deadline`.
-- The leases key is small (the runs in flight), so Redis keeps it as a listpack, where an insert
-- walks the entries in (score, member) order to its place: the whole batch has one deadline, the
-- latest, so each insert walks past the batch's earlier members, comparing them as strings. Added
-- in descending string order, each new member sorts before those and stops at the first one
-- (about 5,000 fewer Redis instructions per task at batches of 50, callgrind).
local function addLeases(key, deadline, ids)
  local order = {unpack(ids)}
  table.sort(order)
  local leases = {}
  for i = #order, 1, -1 do
    leases[#leases + 1] = deadline
    leases[#leases + 1] = order[i]
  end
  redis.call('ZADD', key, unpack(leases))
end
