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
  Returns per message: the attempt number (>= 1) | Started.ALREADY_FINAL (message released)
  | Started.RUNNING_ELSEWHERE (nothing done) | the record key's type name, a string, when
  it is not a hash (nothing done) ]]
-- @include final
-- @replies Started
local rcall = redis.call
local processing, now, workerId, unfinishedTtl = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
local replies = {}
for i = 1, #KEYS - 1 do
  local jobKey, j = KEYS[i + 1], 3 + 4 * (i - 1)
  local reserved, replacement, enqueuedAt, textChars = ARGV[j + 1], ARGV[j + 2], ARGV[j + 3], ARGV[j + 4]
  local kind = rcall('TYPE', jobKey)['ok']
  local status = kind == 'hash' and rcall('HGET', jobKey, 'status') or nil
  if kind ~= 'hash' and kind ~= 'none' then
    replies[i] = kind
  elseif is_final(status) then
    rcall('LREM', processing, 1, reserved)
    replies[i] = Started.ALREADY_FINAL
  elseif status == 'running' and rcall('HGET', jobKey, 'worker') ~= workerId then
    replies[i] = Started.RUNNING_ELSEWHERE
  elseif status == 'running' then
    replies[i] = tonumber(rcall('HGET', jobKey, 'attempts'))
  else
    if replacement ~= '' and rcall('LREM', processing, 1, reserved) == 1 then
      rcall('LPUSH', processing, replacement)
    end
    if not status then
      rcall('HSET', jobKey, 'enqueued_at', enqueuedAt, 'text_chars', textChars)
    end
    rcall('HSET', jobKey, 'status', 'running', 'started_at', now, 'worker', workerId)
    rcall('EXPIRE', jobKey, unfinishedTtl)
    replies[i] = rcall('HINCRBY', jobKey, 'attempts', 1)
  end
end
return replies
