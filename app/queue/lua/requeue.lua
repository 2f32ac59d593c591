--[[ requeue: held -> queued, for messages whose worker stopped or died.
  Moves the given messages from a worker's processing list back to the consuming
  (right) end of the queue, oldest last so they keep their order, and marks each job
  queued again. Used for a worker's own leftovers at shutdown, and for an orphan:
  then the worker's heartbeat must still be absent, and once its list is empty the
  worker is forgotten. A message already moved (another worker recovering the same
  list) is skipped, so two recoveries at once are harmless.
  KEYS[1] queue list   KEYS[2] processing list   KEYS[3] heartbeat key of its worker
  KEYS[4] workers set  KEYS[5] totals hash (an orphan's jobs count `recovered`)
  KEYS[6..] job hash of each message, or KEYS[2] for a message
            with no readable id (it is moved, no record touched)
  ARGV[1] worker id    ARGV[2] 'orphan' (requires no heartbeat) or 'own'
  ARGV[3..] the messages, newest first, aligned with KEYS[6..]
  Returns the number of messages moved | -1 the worker is alive (nothing moved) ]]
local rcall = redis.call
if ARGV[2] == 'orphan' and rcall('EXISTS', KEYS[3]) == 1 then return -1 end
local moved = 0
for i = 3, #ARGV do
  if rcall('LREM', KEYS[2], 1, ARGV[i]) == 1 then
    rcall('RPUSH', KEYS[1], ARGV[i])
    local job = KEYS[i + 3]
    -- a record key of another type is left alone: start buries its message, naming it
    if job ~= KEYS[2] and rcall('TYPE', job)['ok'] == 'hash' and rcall('HGET', job, 'status') == 'running' then
      rcall('HSET', job, 'status', 'queued')
    end
    moved = moved + 1
  end
end
if ARGV[2] == 'orphan' and moved > 0 then rcall('HINCRBY', KEYS[5], 'recovered', moved) end
if rcall('LLEN', KEYS[2]) == 0 then
  rcall('SREM', KEYS[4], ARGV[1])
  if ARGV[2] == 'own' then rcall('DEL', KEYS[3]) end
end
return moved
