-- _codes: the one table of the codes a script answers with, each meaning one thing in every
-- script. Not a script of its own (see _checks.lua). The Java side reads them in one place,
-- dev.taskpool.core.lua.ScriptReply, which must list the same names and numbers (a unit test
-- parses this table). A reply is {code, details...}; the details each code carries are named here.
-- Defines: REPLY.
local REPLY = {
  DONE = 1,              -- the change was written
  ALREADY_DONE = 2,      -- the same command was applied before (re-sent after a reconnect): nothing written
  QUEUE_FULL = 0,        -- enqueue: the queue cannot take the request's count (`size` would be passed)
  UNKNOWN_TASK = -1,     -- enqueue: the task was never published
  ID_TAKEN = -2,         -- {code, id}: a task with this given id exists (or the call gives it twice)
  TASK_MISSING = -3,     -- the task does not exist (never added, expired, or its key is no hash)
  LEASE_LOST = -4,       -- the run no longer holds the task's lease (recovered elsewhere, or canceled)
  WRONG_STATUS = -5,     -- {code, status}: the task's status does not allow this change
  ALREADY_PAUSED = -6,   -- {code, record}: the task is paused already (record: who paused it, when)
  NOT_PAUSED = -7,       -- the task is not paused
  WRONG_TYPE = -8,       -- {code, key, holds, expected}: a key holds something the script cannot work with
  NEXT_ID_TAKEN = -9,    -- {code, id}: the id counter's next id lands on an existing key
  IDS_EXHAUSTED = -10,   -- {code, counter, n}: n default ids would pass the last id, 2^53-1
  REDIS_REFUSED = -11,   -- {code, error}: Redis refused a read or the first write (OOM, an ACL rule)
}
