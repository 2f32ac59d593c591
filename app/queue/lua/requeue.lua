--[[ requeue: held -> queued, for messages whose worker stopped or died.
  Moves the given messages from a worker's processing list back to the consuming
  (right) end of their lanes, oldest last so they keep their order, and marks each job
  queued again. Used for a worker's own leftovers at shutdown, for an orphan (then the
  worker's heartbeat must still be absent), and for a live worker's strays: messages on
  its list that none of its jobs holds (a reservation whose reply was lost). Once its list
  is empty, a stopping or dead worker is forgotten; a live one is not. A message already
  moved (another worker recovering the same list) is skipped, so two recoveries at once
  are harmless.
  KEYS[1] queue list   KEYS[2] processing list   KEYS[3] heartbeat key of its worker
  KEYS[4] workers set  KEYS[5] totals hash (an orphan's jobs and strays count `recovered`,
          there and in their tenant's hash)
  KEYS[6] ring high    KEYS[7] ring normal   KEYS[8] ring low
  KEYS[8+i] job hash of the i-th message, or KEYS[2] for a message with no readable id
            (it is moved to the queue list, no record touched)
  KEYS[8+n+t] hash of the t-th tenant of the messages
  (lanes other than the queue list are named ARGV[4] .. priority .. ':' .. tenant, as in reserve.lua)
  ARGV[1] worker id    ARGV[2] 'orphan' (requires no heartbeat), 'own' or 'stray'
  ARGV[3] n, the number of messages   ARGV[4] lane prefix   ARGV[5] the wake token
  then 4 per message i, newest first (j = 6 + 4(i-1)): ARGV[j] the message, ARGV[j+1] t, its
  tenant's index (0: none known), ARGV[j+2] its priority and ARGV[j+3] its tenant ('' and '':
  the queue list)
  Returns the number of messages moved | Requeued.WORKER_ALIVE (nothing moved) ]]
-- @include lanes
-- @replies Requeued
local rcall = redis.call
local queue, processing, heartbeat, workers, totals = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local rings = {high = KEYS[6], normal = KEYS[7], low = KEYS[8]}
local workerId, orphan, count, prefix, wake = ARGV[1], ARGV[2] == 'orphan', tonumber(ARGV[3]), ARGV[4], ARGV[5]
local stray = ARGV[2] == 'stray'
local counted = orphan or stray  -- jobs taken back from where no worker would have run them
if orphan and rcall('EXISTS', heartbeat) == 1 then return Requeued.WORKER_ALIVE end
local moved, idle, laned = 0, rcall('LLEN', queue) == 0, 0
-- A stray whose job runs on this very worker is not one after all (it started since the worker
-- looked): left where it is, so a sweep can never make a running job run twice.
local function running_here(jobKey)
  return jobKey ~= processing and rcall('TYPE', jobKey)['ok'] == 'hash'
    and rcall('HGET', jobKey, 'status') == 'running' and rcall('HGET', jobKey, 'worker') == workerId
end
for i = 1, count do
  local j = 6 + 4 * (i - 1)
  local message, t, priority, tenant = ARGV[j], tonumber(ARGV[j + 1]), ARGV[j + 2], ARGV[j + 3]
  if not (stray and running_here(KEYS[8 + i])) and rcall('LREM', processing, 1, message) == 1 then
    if priority == '' then
      rcall('RPUSH', queue, message)
    else
      push_job(queue, prefix .. priority .. ':' .. tenant, rings[priority], tenant, message, true, '')
      laned = laned + 1
    end
    local jobKey = KEYS[8 + i]
    -- a record key of another type is left alone: start buries its message, naming it
    if jobKey ~= processing and rcall('TYPE', jobKey)['ok'] == 'hash'
        and rcall('HGET', jobKey, 'status') == 'running' then
      rcall('HSET', jobKey, 'status', 'queued')
    end
    if counted and t > 0 then rcall('HINCRBY', KEYS[8 + count + t], 'recovered', 1) end
    moved = moved + 1
  end
end
if idle then wake_workers(queue, wake, laned) end  -- a token per message in another lane
if counted and moved > 0 then rcall('HINCRBY', totals, 'recovered', moved) end
if not stray and rcall('LLEN', processing) == 0 then
  rcall('SREM', workers, workerId)
  if not orphan then rcall('DEL', heartbeat) end
end
return moved
