--[[ webhook_settle: being delivered -> delivered | due again later | dead.
  Writes one attempt's outcome to the job record and moves the delivery in the same step. Fenced:
  `retry` and `dead` are written only by the current claim (the record's `webhook_attempts` is still
  this attempt's number), so a worker whose lease ran out while it sent cannot undo the claim that
  took over. `delivered` is always true news: out of the outbox and the dead deliveries.
  `retry`: due again in ARGV[4] seconds by Redis's clock, and the record kept at least that long
  past it; `dead`: into the dead deliveries (`/stats`, `summarize-queue webhooks resend`).
  KEYS[1] the webhook outbox   KEYS[2] dead deliveries   KEYS[3] the job hash
  ARGV[1] job id   ARGV[2] delivered | retry | dead   ARGV[3] the attempt (its claim's number)
  ARGV[4] seconds until the next attempt (retry)   ARGV[5] what the attempt met ('' when delivered)
  ARGV[6] the lease of a claim, seconds
  Returns 1 when written, 0 when stale (another claim took over, or the record is gone) ]]
local rcall = redis.call
local outbox, dead, jobKey = KEYS[1], KEYS[2], KEYS[3]
local jobId, outcome = ARGV[1], ARGV[2]
local clock = rcall('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1e6
if rcall('TYPE', jobKey)['ok'] ~= 'hash' then return 0 end
if outcome == 'delivered' then
  rcall('ZREM', outbox, jobId)
  rcall('ZREM', dead, jobId)
  rcall('HSET', jobKey, 'webhook', 'delivered', 'webhook_delivered_at', now)
  rcall('HDEL', jobKey, 'webhook_error', 'webhook_next_at')
  return 1
end
if rcall('HGET', jobKey, 'webhook_attempts') ~= ARGV[3] or not rcall('ZSCORE', outbox, jobId) then return 0 end
if outcome == 'retry' then
  local nextAt = now + tonumber(ARGV[4])
  rcall('ZADD', outbox, nextAt, jobId)
  rcall('HSET', jobKey, 'webhook', 'retrying', 'webhook_error', ARGV[5], 'webhook_next_at', nextAt)
  local keep = math.ceil(tonumber(ARGV[4]) + tonumber(ARGV[6]) + 3600)  -- the record outlives the retry
  local ttl = rcall('TTL', jobKey)
  if ttl >= 0 and ttl < keep then rcall('EXPIRE', jobKey, keep) end
else
  rcall('ZREM', outbox, jobId)
  rcall('ZADD', dead, now, jobId)
  rcall('ZREMRANGEBYRANK', dead, 0, -10001)  -- the newest 10,000 are kept
  rcall('HSET', jobKey, 'webhook', 'dead', 'webhook_error', ARGV[5])
  rcall('HDEL', jobKey, 'webhook_next_at')
end
return 1
