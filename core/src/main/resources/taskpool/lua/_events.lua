-- _events: the task events the scripts publish, and who would hear them. Not a script of its own
-- (see _checks.lua).
-- Defines: listenersOf(mode, prefix, ids), hears(listeners, id), and one message builder per event
-- type: addedEvent, startedEvent, successEvent, failureEvent, retryEvent, canceledEvent,
-- resubmittedEvent, cancelRequest, resubmittedControl.
--
-- A PUBLISH that no subscriber and no pattern would receive reaches no one, yet costs the
-- script the command and, above all, building its JSON message (together about 1.1 µs of Redis
-- CPU per event, three events per task). The hot-path scripts (enqueue, finish) therefore ask
-- first who would hear their events, and build and publish only those. Mode 'heard' (a standalone
-- or Sentinel-managed Redis, where every subscriber of these channels is on this server): every
-- event when any pattern subscription exists (PUBSUB NUMPAT), else those whose channel has a
-- subscriber (one PUBSUB NUMSUB per 500 channels). So a task someone awaits or watches gets every
-- event, in order, and a task nobody listens to costs no PUBLISH. Any other mode ('all': a
-- Cluster, where classic PUBLISH reaches subscribers on every node, which this node cannot
-- count): every event.
-- listenersOf(mode, prefix, ids) is true (every id is heard) or a table id -> true of the ids
-- whose channel prefix .. id has a subscriber; hears(listeners, id) tells one.
-- The questions go through pcall: the scripts ask them after their first write, and a user whose
-- ACL rules predate them (no +pubsub|numpat +pubsub|numsub) must not make a script stop half-way
-- (a fetch that popped its tasks and then failed would lose them); such a user's scripts publish
-- every event, as before.
local patternSubscriptions   -- PUBSUB NUMPAT, asked once per script call (false: refused)
local function listenersOf(mode, prefix, ids)
  if mode ~= 'heard' or #ids == 0 then return true end
  if patternSubscriptions == nil then
    local answer = redis.pcall('PUBSUB', 'NUMPAT')
    patternSubscriptions = type(answer) == 'number' and answer or false
  end
  if patternSubscriptions ~= 0 then return true end
  local heard = {}
  for from = 1, #ids, 500 do
    local channels = {}
    for i = from, math.min(from + 499, #ids) do channels[#channels + 1] = prefix .. ids[i] end
    local counts = redis.pcall('PUBSUB', 'NUMSUB', unpack(channels))
    if type(counts) ~= 'table' or counts.err then return true end
    for i = 2, #counts, 2 do
      if counts[i] > 0 then heard[ids[from + i / 2 - 1]] = true end
    end
  end
  return heard
end
local function hears(listeners, id)
  return listeners == true or listeners[id] == true
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
