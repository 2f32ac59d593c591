--[[ start: queued -> running, for a batch of reserved messages.
  Marks each job running on this worker and counts its attempt. A message the worker
  had to complete (a foreign producer's {"text": ...} given an id) replaces the raw one
  in the processing list, so a recovery requeues it under the same id. A job that
  already has a final record (a redelivery) is released instead and must not run:
  a job never ends twice. Calling it again for jobs this worker already started (a
  retry after a dropped connection) changes nothing and returns the same attempts.
  Touches nothing for a message that must not start here: a job running on another
  worker (a second message with its id: the caller buries it as a duplicate), or a
  record key holding another type than a hash (garbage under our name: the caller buries
  the message, naming the type). One such message never stops the rest of its batch.
  The record of a job that never ends (its message deleted by hand) expires after
  ARGV[3] seconds instead of staying forever; each start renews that.
  KEYS[1] processing list of the worker   KEYS[1+i] job hash of the i-th message
  ARGV[1] now, unix seconds               ARGV[2] worker id
  ARGV[3] TTL of an unfinished record, seconds
  then 4 per message i (j = 3 + 4(i-1)):
  ARGV[j+1] message as reserved   ARGV[j+2] message to hold instead ('' = keep)
  ARGV[j+3] enqueued_at (for a job with no record yet)   ARGV[j+4] text length in chars
  Returns per message: the attempt number (>= 1) | 0 already final (message released)
  | -1 running on another worker (nothing done) | the record key's type name, a string,
  when it is not a hash (nothing done) ]]
local rcall = redis.call
local attempts = {}
for i = 1, #KEYS - 1 do
  local job, j = KEYS[i + 1], 3 + 4 * (i - 1)
  local kind = rcall('TYPE', job)['ok']
  local status = kind == 'hash' and rcall('HGET', job, 'status') or nil
  if kind ~= 'hash' and kind ~= 'none' then
    attempts[i] = kind
  elseif status == 'done' or status == 'failed' then
    rcall('LREM', KEYS[1], 1, ARGV[j + 1])
    attempts[i] = 0
  elseif status == 'running' and rcall('HGET', job, 'worker') ~= ARGV[2] then
    attempts[i] = -1
  elseif status == 'running' then
    attempts[i] = tonumber(rcall('HGET', job, 'attempts'))
  else
    if ARGV[j + 2] ~= '' and rcall('LREM', KEYS[1], 1, ARGV[j + 1]) == 1 then
      rcall('LPUSH', KEYS[1], ARGV[j + 2])
    end
    if not status then
      rcall('HSET', job, 'enqueued_at', ARGV[j + 3], 'text_chars', ARGV[j + 4])
    end
    rcall('HSET', job, 'status', 'running', 'started_at', ARGV[1], 'worker', ARGV[2])
    rcall('EXPIRE', job, ARGV[3])
    attempts[i] = rcall('HINCRBY', job, 'attempts', 1)
  end
end
return attempts
