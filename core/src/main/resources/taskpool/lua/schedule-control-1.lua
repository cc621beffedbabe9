#!lua flags=allow-oom
-- schedule-control-1: an operator's or a runtime's change of one schedule's state: stop, start,
-- trigger, or its timing (the cron and zone its next fire time is computed from). One key: the
-- state of a task schedule (taskpool:{T}:schedule:<id>) or of a process schedule
-- (taskpool:schedule:<id>); see _schedule.lua for its fields.
--
-- KEYS[1] the schedule's state hash
-- ARGV[1] action: 'stop', 'start', 'trigger' or 'timing'
-- ARGV[2] by (who asked; for 'timing' unused)
-- ARGV[3] now, epoch ms
-- ARGV[4] start, timing: the first slot after now, epoch ms ('0': the cron never fires again)
-- ARGV[5] start, timing: the timing key (cron and zone) ARGV[4] was computed from
-- stop:    holds for every worker at once: next_fire_at goes, and every firing call finds the
--          schedule stopped. ALREADY_DONE when it was stopped already.
-- start:   resumes from the first slot after now (the slots missed while stopped are not run).
--          ALREADY_DONE when it was not stopped.
-- trigger: one extra firing, carried out by the next worker that looks (also while stopped).
--          {ALREADY_DONE, trigger_at} when one is pending already.
-- timing:  a definition's cron or zone changed (or its state is new, or was lost): the next fire
--          time is recomputed. ALREADY_DONE when the timing is the same and a next fire time is
--          there (or the schedule is stopped, or the cron never fires again).
-- Returns {DONE} or {ALREADY_DONE...}; an error reply (WRONGTYPE) when the key holds no hash.
--@include _codes.lua
--@include _checks.lua
local key, action, by, now = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
local values = redis.pcall('HMGET', key, 'stopped', 'trigger_at', 'timing', 'next_fire_at')
if type(values) == 'table' and values.err then return readFailed(key, 'hash', values) end
local stopped, triggerAt, timing, nextAt = values[1] == '1', values[2], values[3], values[4]

-- The next slot, or none when the cron never fires again.
local function setNext(at)
  if at == '0' then redis.call('HDEL', key, 'next_fire_at') else redis.call('HSET', key, 'next_fire_at', at) end
end

if action == 'stop' then
  if stopped then return {REPLY.ALREADY_DONE} end
  redis.call('HSET', key, 'stopped', '1', 'stopped_by', by, 'stopped_at', now)
  redis.call('HDEL', key, 'next_fire_at')
elseif action == 'start' then
  if not stopped then return {REPLY.ALREADY_DONE} end
  redis.call('HSET', key, 'stopped', '0', 'started_by', by, 'started_at', now, 'timing', ARGV[5])
  setNext(ARGV[4])
elseif action == 'trigger' then
  if triggerAt then return {REPLY.ALREADY_DONE, triggerAt} end
  redis.call('HSET', key, 'trigger_at', now, 'trigger_by', by)
elseif action == 'timing' then
  if timing == ARGV[5] and (nextAt or stopped or ARGV[4] == '0') then return {REPLY.ALREADY_DONE} end
  redis.call('HSET', key, 'timing', ARGV[5])
  if stopped then redis.call('HDEL', key, 'next_fire_at') else setNext(ARGV[4]) end
else
  return redis.error_reply('ERR schedule-control: unknown action ' .. tostring(action))
end
return {REPLY.DONE}
