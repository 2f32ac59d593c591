--[[ webhook_claim: due deliveries -> being delivered by this worker, for a while.
  Takes the deliveries due by Redis's clock and pushes each one's due time `lease` seconds ahead in
  the same step, so two workers never take one delivery at once, and a worker killed mid-delivery
  only delays it: when its lease runs out, another worker takes it again (at least once;
  receivers deduplicate by `webhook-id`). Each claim counts an attempt in the record, so a
  delivery that kills its deliverer every time still ends after WEBHOOK_MAX_ATTEMPTS; the attempt
  number is the claim's fencing token (webhook_settle.lua writes only the current claim's outcome).
  A delivery whose job record is gone (expired) or is no hash cannot be sent: it goes to the dead
  deliveries, reported with attempt 0.
  KEYS[1] the webhook outbox (job id scored by due time)   KEYS[2] dead deliveries (id by when)
  ARGV[1] lease, seconds   ARGV[2] most to take   ARGV[3] the job key prefix ('{queue}:job:')
  Returns a flat list: job id, attempt number (1 for the first; 0: its record is gone), per delivery ]]
local rcall = redis.call
local outbox, dead, prefix = KEYS[1], KEYS[2], ARGV[3]
local clock = rcall('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1e6
local taken = {}
for _, jobId in ipairs(rcall('ZRANGEBYSCORE', outbox, '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))) do
  local jobKey = prefix .. jobId
  taken[#taken + 1] = jobId
  if rcall('TYPE', jobKey)['ok'] ~= 'hash' or rcall('HEXISTS', jobKey, 'callback_url') == 0 then
    rcall('ZREM', outbox, jobId)
    rcall('ZADD', dead, now, jobId)
    rcall('ZREMRANGEBYRANK', dead, 0, -10001)  -- the newest 10,000 are kept
    taken[#taken + 1] = 0
  else
    rcall('ZADD', outbox, now + tonumber(ARGV[1]), jobId)
    taken[#taken + 1] = rcall('HINCRBY', jobKey, 'webhook_attempts', 1)
  end
end
return taken
