--[[ requeue: held -> queued, for messages whose worker stopped or died.
  Moves the given messages from a worker's processing list back to the consuming
  (right) end of the queue, oldest last so they keep their order, and marks each job
  queued again. Used for a worker's own leftovers at shutdown, and for an orphan:
  then the worker's heartbeat must still be absent, and once its list is empty the
  worker is forgotten. A message already moved (another worker recovering the same
  list) is skipped, so two recoveries at once are harmless.
  KEYS[1] queue list   KEYS[2] processing list   KEYS[3] heartbeat key of its worker
  KEYS[4] workers set  KEYS[5] totals hash (an orphan's jobs count `recovered`, there and
          in their tenant's hash)
  KEYS[5+i] job hash of the i-th message, or KEYS[2] for a message with no readable id
            (it is moved, no record touched)
  KEYS[5+n+t] hash of the t-th tenant of the messages
  ARGV[1] worker id    ARGV[2] 'orphan' (requires no heartbeat) or 'own'
  ARGV[3] n, the number of messages
  then 2 per message i, newest first: ARGV[2+2i] the message, ARGV[3+2i] t, its tenant's
  index (0: none known)
  Returns the number of messages moved | Requeued.WORKER_ALIVE (nothing moved) ]]
-- @replies Requeued
local rcall = redis.call
local queue, processing, heartbeat, workers, totals = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local workerId, orphan, count = ARGV[1], ARGV[2] == 'orphan', tonumber(ARGV[3])
if orphan and rcall('EXISTS', heartbeat) == 1 then return Requeued.WORKER_ALIVE end
local moved = 0
for i = 1, count do
  local message, t = ARGV[2 + 2 * i], tonumber(ARGV[3 + 2 * i])
  if rcall('LREM', processing, 1, message) == 1 then
    rcall('RPUSH', queue, message)
    local jobKey = KEYS[5 + i]
    -- a record key of another type is left alone: start buries its message, naming it
    if jobKey ~= processing and rcall('TYPE', jobKey)['ok'] == 'hash'
        and rcall('HGET', jobKey, 'status') == 'running' then
      rcall('HSET', jobKey, 'status', 'queued')
    end
    if orphan and t > 0 then rcall('HINCRBY', KEYS[5 + count + t], 'recovered', 1) end
    moved = moved + 1
  end
end
if orphan and moved > 0 then rcall('HINCRBY', totals, 'recovered', moved) end
if rcall('LLEN', processing) == 0 then
  rcall('SREM', workers, workerId)
  if not orphan then rcall('DEL', heartbeat) end
end
return moved
