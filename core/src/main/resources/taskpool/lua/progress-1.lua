-- progress-1: record the progress of a task and publish it.
--
-- KEYS[1] taskpool:{T}:task:<id>  the task hash
-- ARGV[1] current
-- ARGV[2] total
-- ARGV[3] message
-- ARGV[4] now, epoch ms
-- ARGV[5] event channel taskpool:{T}:events:<id>
-- ARGV[6] event message (JSON)
--
-- Returns {1} done, {-3} the task does not exist, {-5} the task has already finished;
-- nothing was written on an error.
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {-3} end
if status == 'SUCCESS' or status == 'FAILURE' then return {-5} end
redis.call('HSET', KEYS[1], 'current', ARGV[1], 'total', ARGV[2], 'message', ARGV[3],
  'progress_at', ARGV[4])
redis.call('PUBLISH', ARGV[5], ARGV[6])
return {1}
