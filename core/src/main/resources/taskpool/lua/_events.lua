-- _events: the task events the scripts publish, and who would hear them. Not a script of its own
-- (see _checks.lua).
-- Defines: isSharded(mode), listenersOf(mode, prefix, ids, kind), hears(listeners, id),
-- publishEvent(listeners, id, message), publishTo(mode, channel, kind, message), and one message
-- builder per event type:
-- addedEvent, startedEvent, successEvent, failureEvent, retryEvent, canceledEvent,
-- resubmittedEvent, cancelRequest, resubmittedControl.
--
-- mode (dev.taskpool.core.lua.EventMode) says how events go out:
-- 'heard', 'all': a standalone or Sentinel-managed Redis. Classic PUBLISH on the task's channel
--   (prefix .. id) or the kind's control channel; pattern subscriptions see them.
-- 'sharded', 'sharded-all': a Cluster. SPUBLISH, which stays on the shard of the kind's slot
--   (classic PUBLISH goes over the cluster bus to every node). Sharded pub/sub has no patterns,
--   so a task's event also goes to the kind's own events channel `kind` (taskpool:{T}:events),
--   which operators' views subscribe to per kind.
--
-- A publish that no subscriber and no pattern would receive reaches no one, yet costs the script
-- the command and, above all, building its JSON message (together about 1.1 us of Redis CPU per
-- event, three events per task). The scripts therefore ask first who would hear their events, and
-- build and publish only those. 'heard' (every subscriber of these channels is on this server):
-- every event when any pattern subscription exists (PUBSUB NUMPAT), else those whose channel has
-- a subscriber (one PUBSUB NUMSUB per 500 channels). 'sharded' (a subscriber of a shard channel
-- is on the master of its slot, this node): PUBSUB SHARDNUMSUB of the kind's channel and the
-- tasks' channels (one per 500), and each event goes to those of its channels that have a
-- subscriber. 'all' and 'sharded-all' publish every event without asking (TASKPOOL_EVENTS=all:
-- for subscribers on replicas, which the master cannot count). So a task someone awaits or
-- watches gets every event, in order, and a task nobody listens to costs no publish.
-- The questions go through pcall: the scripts ask them after their first write, and a user whose
-- ACL rules predate them (no +pubsub|numpat +pubsub|numsub +pubsub|shardnumsub) must not make a
-- script stop half-way (a fetch that popped its tasks and then failed would lose them); such a
-- user's scripts publish every event, as before.
-- listenersOf(...) is a table: every (each id heard), heard (id -> true), kindHeard, and what
-- publishEvent needs; hears(listeners, id) tells whether anyone hears id's event.
local function isSharded(mode)
  return mode == 'sharded' or mode == 'sharded-all'
end
-- PUBSUB SHARDNUMSUB of `channels`: a table channel index -> count, or false (refused).
local function shardSubscribers(channels)
  local counts = redis.pcall('PUBSUB', 'SHARDNUMSUB', unpack(channels))
  if type(counts) ~= 'table' or counts.err then return false end
  local byIndex = {}
  for i = 2, #counts, 2 do byIndex[i / 2] = counts[i] end
  return byIndex
end
local patternSubscriptions   -- PUBSUB NUMPAT, asked once per script call (false: refused)
local function listenersOf(mode, prefix, ids, kind)
  local listeners = {prefix = prefix, kind = kind, sharded = isSharded(mode), heard = {}}
  if (mode ~= 'heard' and mode ~= 'sharded') or #ids == 0 then
    listeners.every, listeners.kindHeard = true, true
    return listeners
  end
  if mode == 'heard' then
    if patternSubscriptions == nil then
      local answer = redis.pcall('PUBSUB', 'NUMPAT')
      patternSubscriptions = type(answer) == 'number' and answer or false
    end
    if patternSubscriptions ~= 0 then listeners.every = true return listeners end
  end
  for from = 1, #ids, 500 do
    local channels = {}
    for i = from, math.min(from + 499, #ids) do channels[#channels + 1] = prefix .. ids[i] end
    local counts
    if listeners.sharded then
      channels[#channels + 1] = kind
      counts = shardSubscribers(channels)
      if counts and counts[#channels] > 0 then listeners.kindHeard = true end
    else
      local answer = redis.pcall('PUBSUB', 'NUMSUB', unpack(channels))
      counts = type(answer) == 'table' and not answer.err and {}
      for i = 2, counts and #answer or 0, 2 do counts[i / 2] = answer[i] end
    end
    if not counts then listeners.every, listeners.kindHeard = true, true return listeners end
    for i = from, math.min(from + 499, #ids) do
      if counts[i - from + 1] > 0 then listeners.heard[ids[i]] = true end
    end
  end
  return listeners
end
local function hears(listeners, id)
  return listeners.every or listeners.kindHeard or listeners.heard[id] == true
end
-- Publishes id's event to whoever hears it (call it only when hears(listeners, id)).
local function publishEvent(listeners, id, message)
  if not listeners.sharded then
    redis.call('PUBLISH', listeners.prefix .. id, message)
    return
  end
  if listeners.every or listeners.heard[id] then redis.call('SPUBLISH', listeners.prefix .. id, message) end
  if listeners.kindHeard then redis.call('SPUBLISH', listeners.kind, message) end
end
-- One message on one channel (a task's, or the kind's control channel: then kind is nil), always
-- published outside a Cluster, as before; in a Cluster to whichever of channel and kind is heard.
local function publishTo(mode, channel, kind, message)
  if not isSharded(mode) then
    redis.call('PUBLISH', channel, message)
    return
  end
  local counts = mode == 'sharded' and shardSubscribers(kind and {channel, kind} or {channel})
  if not counts or counts[1] > 0 then redis.call('SPUBLISH', channel, message) end
  if kind and (not counts or counts[2] > 0) then redis.call('SPUBLISH', kind, message) end
end

-- The messages. Each event type has its fields listed once, in dev.taskpool.core.model.TaskEvent
-- (the Java side builds progress, retry, requeued and deleted from that list; EventSchemaTest runs
-- these scripts and checks that what they publish has those fields, of those JSON types). Messages
-- are joined as text: cjson would cost more than the event's whole script for what is, but for the
-- error text, digits and names already encoded.
-- task, worker, by: JSON strings (cjson.encode) made once per call; id, attempt, at: digits;
-- response: the run's JSON result as the worker sent it; err: plain text, encoded here.
-- due: the due time of a delayed task (epoch ms), or false.
local function addedEvent(task, id, at, due)
  return '{"event":"added","task":' .. task .. ',"id":' .. id .. ',"status":"WAITING","at":' .. at ..
    (due and ',"due_at":' .. due or '') .. '}'
end
local function startedEvent(task, id, attempt, worker, at)
  return '{"event":"started","task":' .. task .. ',"id":' .. id .. ',"status":"RUNNING","attempt":' .. attempt ..
    ',"worker":' .. worker .. ',"at":' .. at .. '}'
end
local function successEvent(task, id, attempt, response, at)
  return '{"event":"success","task":' .. task .. ',"id":' .. id .. ',"status":"SUCCESS","attempt":' .. attempt ..
    ',"response":' .. response .. ',"at":' .. at .. '}'
end
-- attempt nil: a task hash holding garbage, which never ran, has no attempt to tell.
local function failureEvent(task, id, attempt, err, at)
  return '{"event":"failure","task":' .. task .. ',"id":' .. id .. ',"status":"FAILURE"' ..
    (attempt and ',"attempt":' .. attempt or '') .. ',"error":' .. cjson.encode(err) .. ',"at":' .. at .. '}'
end
-- A retry: the failed (or, for the recoverer, lost) run's attempt, and the task WAITING for the
-- next one; `due` (digits) when the next run is due at a time (a worker's retry), nil when at once.
local function retryEvent(task, id, attempt, err, at, due)
  return '{"event":"retry","task":' .. task .. ',"id":' .. id .. ',"status":"WAITING","attempt":' .. attempt ..
    ',"error":' .. cjson.encode(err) .. (due and ',"due_at":' .. due or '') .. ',"at":' .. at .. '}'
end
local function canceledEvent(task, id, err, by, at)
  return '{"event":"canceled","task":' .. task .. ',"id":' .. id .. ',"status":"FAILURE","error":' ..
    cjson.encode(err) .. ',"by":' .. by .. ',"at":' .. at .. '}'
end
local function resubmittedEvent(task, id, by, at)
  return '{"event":"resubmitted","task":' .. task .. ',"id":' .. id .. ',"status":"WAITING","by":' .. by ..
    ',"at":' .. at .. '}'
end
-- On the kind's control channel: the workers stop the run holding `lease` (a JSON string).
local function cancelRequest(task, id, lease, by, at)
  return '{"event":"cancel","task":' .. task .. ',"id":' .. id .. ',"lease":' .. lease .. ',"by":' .. by ..
    ',"at":' .. at .. '}'
end
-- On the kind's control channel: a bulk retry put `count` failed tasks back in the queue.
local function resubmittedControl(task, count, by, at)
  return '{"event":"resubmitted","task":' .. task .. ',"count":' .. count .. ',"by":' .. by .. ',"at":' .. at .. '}'
end
