--[[ webhook_settle: being delivered -> delivered | due again later | dead.
  Writes one attempt's outcome to the job record and moves the delivery in the same step.
  `delivered`: out of the outbox; `retry`: due again at ARGV[4] (only while still in the outbox:
  a delivery another worker settled meanwhile is not brought back); `dead`: out of the outbox,
  into the dead deliveries (`/stats`, `summarize-queue webhooks resend`).
  KEYS[1] the webhook outbox   KEYS[2] dead deliveries   KEYS[3] the job hash
  ARGV[1] job id   ARGV[2] delivered | retry | dead   ARGV[3] now, unix seconds
  ARGV[4] due time of the next attempt (retry)   ARGV[5] what the attempt met ('' when delivered)
  Returns 1 when the record was written, 0 when the job record is gone ]]
local rcall = redis.call
local outbox, dead, jobKey = KEYS[1], KEYS[2], KEYS[3]
local jobId, outcome, now = ARGV[1], ARGV[2], ARGV[3]
if outcome == 'retry' then
  if rcall('ZADD', outbox, 'XX', 'CH', ARGV[4], jobId) == 0 and not rcall('ZSCORE', outbox, jobId) then
    return 0
  end
else
  rcall('ZREM', outbox, jobId)
  if outcome == 'dead' then
    rcall('ZADD', dead, now, jobId)
    rcall('ZREMRANGEBYRANK', dead, 0, -10001)  -- the newest 10,000 are kept
  end
end
if rcall('EXISTS', jobKey) == 0 then return 0 end
if outcome == 'delivered' then
  rcall('HSET', jobKey, 'webhook', 'delivered', 'webhook_delivered_at', now)
  rcall('HDEL', jobKey, 'webhook_error', 'webhook_next_at')
elseif outcome == 'retry' then
  rcall('HSET', jobKey, 'webhook', 'retrying', 'webhook_error', ARGV[5], 'webhook_next_at', ARGV[4])
else
  rcall('HSET', jobKey, 'webhook', 'dead', 'webhook_error', ARGV[5])
  rcall('HDEL', jobKey, 'webhook_next_at')
end
return 1
