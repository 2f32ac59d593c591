--[[ webhook_resend: dead delivery -> due now, its attempts counted afresh.
  For an operator who fixed the receiver (`summarize-queue webhooks resend`). The delivery keeps
  its `webhook-id`: a receiver that did get an earlier attempt deduplicates it. Its record is kept
  at least an hour more, so the attempts to come have something to send.
  KEYS[1] the webhook outbox   KEYS[2] dead deliveries   KEYS[3] the job hash
  ARGV[1] job id
  Returns 1 when it was dead and is due again; 0 when it was not dead; -1 when its job record is
  gone (it stays dead: there is nothing left to send) ]]
local rcall = redis.call
local outbox, dead, jobKey, jobId = KEYS[1], KEYS[2], KEYS[3], ARGV[1]
if not rcall('ZSCORE', dead, jobId) then return 0 end
if rcall('TYPE', jobKey)['ok'] ~= 'hash' or rcall('HEXISTS', jobKey, 'callback_url') == 0 then return -1 end
rcall('ZREM', dead, jobId)
rcall('ZADD', outbox, 0, jobId)  -- due at once, by any clock
rcall('HSET', jobKey, 'webhook', 'pending', 'webhook_attempts', 0)
rcall('HDEL', jobKey, 'webhook_error', 'webhook_next_at')
local ttl = rcall('TTL', jobKey)
if ttl >= 0 and ttl < 3600 then rcall('EXPIRE', jobKey, 3600) end
return 1
