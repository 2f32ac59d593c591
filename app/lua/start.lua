--[[ start: queued -> running, for a batch of reserved messages.
  Marks each job running on this worker and counts its attempt. A message the worker
  had to complete (a foreign producer's {"text": ...} given an id) replaces the raw one
  in the processing list, so a recovery requeues it under the same id. A job that
  already has a final record (a redelivery) is released instead and must not run:
  a job never ends twice. Calling it again for jobs this worker already started (a
  retry after a dropped connection) changes nothing and returns the same attempts.
  KEYS[1] processing list of the worker   KEYS[1+i] job hash of the i-th message
  ARGV[1] now, unix seconds               ARGV[2] worker id
  then 4 per message i (j = 2 + 4(i-1)):
  ARGV[j+1] message as reserved   ARGV[j+2] message to hold instead ('' = keep)
  ARGV[j+3] enqueued_at (for a job with no record yet)   ARGV[j+4] text length in chars
  Returns per message: the attempt number (>= 1) | 0 already final (message released) ]]
local rcall = redis.call
local attempts = {}
for i = 1, #KEYS - 1 do
  local job, j = KEYS[i + 1], 2 + 4 * (i - 1)
  local status = rcall('HGET', job, 'status')
  if status == 'done' or status == 'failed' then
    rcall('LREM', KEYS[1], 1, ARGV[j + 1])
    attempts[i] = 0
  elseif status == 'running' and rcall('HGET', job, 'worker') == ARGV[2] then
    attempts[i] = tonumber(rcall('HGET', job, 'attempts'))
  else
    if ARGV[j + 2] ~= '' and rcall('LREM', KEYS[1], 1, ARGV[j + 1]) == 1 then
      rcall('LPUSH', KEYS[1], ARGV[j + 2])
    end
    if not status then
      rcall('HSET', job, 'enqueued_at', ARGV[j + 3], 'text_chars', ARGV[j + 4])
    end
    rcall('HSET', job, 'status', 'running', 'started_at', ARGV[1], 'worker', ARGV[2])
    attempts[i] = rcall('HINCRBY', job, 'attempts', 1)
  end
end
return attempts
