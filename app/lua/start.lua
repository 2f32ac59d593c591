--[[ start: queued -> running.
  Marks the job running on this worker and counts the attempt. A message the worker
  had to complete (a foreign producer's {"text": ...} given an id) replaces the raw one
  in the processing list, so a recovery requeues it under the same id. A job that
  already has a final record (a redelivery) is released instead and must not run:
  a job never ends twice. Calling it again for a job this worker already started
  (a retry after a dropped connection) changes nothing and returns the same attempt.
  KEYS[1] processing list of the worker   KEYS[2] job hash
  ARGV[1] message as reserved             ARGV[2] message to hold instead ('' = keep)
  ARGV[3] now, unix seconds               ARGV[4] worker id
  ARGV[5] enqueued_at (for a job with no record yet)   ARGV[6] text length in chars
  Returns the attempt number (>= 1) | 0 already final (message released) ]]
local rcall = redis.call
local status = rcall('HGET', KEYS[2], 'status')
if status == 'done' or status == 'failed' then
  rcall('LREM', KEYS[1], 1, ARGV[1])
  return 0
end
if status == 'running' and rcall('HGET', KEYS[2], 'worker') == ARGV[4] then
  return tonumber(rcall('HGET', KEYS[2], 'attempts'))
end
if ARGV[2] ~= '' and rcall('LREM', KEYS[1], 1, ARGV[1]) == 1 then
  rcall('LPUSH', KEYS[1], ARGV[2])
end
if not status then
  rcall('HSET', KEYS[2], 'enqueued_at', ARGV[5], 'text_chars', ARGV[6])
end
rcall('HSET', KEYS[2], 'status', 'running', 'started_at', ARGV[3], 'worker', ARGV[4])
return rcall('HINCRBY', KEYS[2], 'attempts', 1)
