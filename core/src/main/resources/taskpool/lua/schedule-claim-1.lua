-- schedule-claim-1: one firing of a process schedule: compares and sets the schedule's next fire
-- time (or its pending trigger). The one call that finds it still there answers DONE, and only
-- that worker runs the process: at most once per firing (a worker that dies after winning leaves
-- that firing unrun; nobody runs it twice).
--
-- KEYS[1] taskpool:schedule:<id>  hash, the schedule's state (see _schedule.lua)
-- ARGV[1] mode: 'slot', 'trigger' or 'skip'
-- ARGV[2] expected: the next_fire_at (or trigger_at) the caller read and fires
-- ARGV[3] fire_at: the slot (or trigger time) fired, epoch ms
-- ARGV[4] the next slot after this firing, epoch ms ('0': none); unused for a trigger
-- ARGV[5] '' or why the caller could not prepare the firing (recorded in last_error)
-- Returns {DONE} (this caller won the firing: it runs the process unless it skipped or gave an
-- error, when the slot just passed), {ALREADY_DONE} (another call made it, or the schedule is stopped: nothing written), or
-- an error reply (WRONGTYPE) when the key holds no hash.
--@include _codes.lua
--@include _checks.lua
--@include _schedule.lua
local mode = ARGV[1]
local state, failed = readSchedule(KEYS[1])
if not state then return failed end
if not stillDue(state, mode, ARGV[2]) then return {REPLY.ALREADY_DONE} end
moveOn(KEYS[1], mode, ARGV[3], ARGV[4])
if ARGV[5] ~= '' then
  redis.call('HSET', KEYS[1], 'last_error', ARGV[5])
elseif mode ~= 'skip' then
  redis.call('HDEL', KEYS[1], 'last_error')
end
return {REPLY.DONE}
