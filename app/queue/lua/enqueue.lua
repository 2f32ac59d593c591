--[[ enqueue: (new) -> queued.
  Writes the job record and pushes the message in one step, so every message on the
  queue has a record and a rejected job leaves neither. The tenant's quotas are checked
  in the same step, so every API replica enforces one shared limit with no race: its
  request rate (GCRA), its jobs queued or running, its model tokens of the day. Idempotent
  by id: a job whose record exists is not pushed again (a client that retries after a
  lost reply). With an idempotency key (scoped to the tenant), the first request under
  the key enqueues and later ones get its job id back, however many arrive at once; a
  later one with another body is refused, since the key was used for something else.
  KEYS[1] queue list (a worker blocks on it)   KEYS[2] job hash
  KEYS[3] totals hash (counts `enqueued`)
  KEYS[4] recent list (the newest job ids, capped: the dashboard's "latest jobs")
  KEYS[5] the tenant's hash (`enqueued`, `active`)   KEYS[6] the tenant's recent list
  KEYS[7] the tenant's rate schedule   KEYS[8] the tenant's tokens spent today
  KEYS[9] the tenants set
  KEYS[10] the job's lane (the queue list for the default tenant's normal jobs)
  KEYS[11] the ring of its priority   KEYS[12] the weights hash
  KEYS[13] what the tenant's jobs cost today, USD
  KEYS[14] idempotency key (optional; absent = no key)
  ARGV[1] message JSON            ARGV[2] enqueued_at, unix seconds
  ARGV[3] text length in chars    ARGV[4] queue length limit (0 = unlimited)
  ARGV[5] job id                  ARGV[6] idempotency key TTL, seconds
  ARGV[7] TTL of the record until the job ends, seconds (a job whose message is deleted
          by hand must not leave its record forever; start renews it, the ending replaces it)
  ARGV[8] tenant ('' = default, not written in the record)   ARGV[9] tenant name
  ARGV[10] requests per minute   ARGV[11] most active jobs   ARGV[12] tokens per day
           (each 0 = no limit)
  ARGV[13] the request's fingerprint (what the idempotency key must keep meaning)
  ARGV[14] ms until the tenant's day ends (when a spent budget is whole again)
  ARGV[15] the wake token   ARGV[16] the tenant's weight (its share of free slots)
  ARGV[17] the tenant's cost budget of the day, USD (0 = no limit)
  ARGV[18] the URL to call back when the job ends ('' = none; checked by the API: app/webhooks/targets.py)
  The tenant's budgets are written to its hash (`budget_tokens`, `budget_cost_usd`), where the
  workers read them before each model call (start.lua).
  The queue length limit (ARGV[4]) holds for the job's lane.
  Only an enqueued job is charged to the rate quota: a refusal (of any kind) or a replay
  writes nothing at all. The record's `counted` marks it as one of its tenant's `active`
  jobs (the endings take it back exactly once).
  Returns {Enqueued, id or '', requests still allowed (-1: not charged, or no rate limit),
  ms until the rate quota is whole, ms until the refusal may be tried again (0: unknown)}:
  QUEUED | EXISTS (nothing pushed) | FULL | KEY_USED with the earlier id | KEY_REUSED with
  the earlier id (another body) | RATE_LIMITED | TOO_MANY_ACTIVE | BUDGET_SPENT ]]
-- @include gcra
-- @include lanes
-- @replies Enqueued
local rcall = redis.call
local queue, jobKey, totals, recent = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local tenantKey, tenantRecent, rateKey, spentKey = KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local tenantsKey, lane, ring, weightsKey, costKey, idemKey = KEYS[9], KEYS[10], KEYS[11], KEYS[12], KEYS[13], KEYS[14]
local message, enqueuedAt, textChars, limit, jobId = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local idemTtl, unfinishedTtl, recordTenant, tenant = ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local perMinute, maxActive, dailyTokens = tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12])
local fingerprint, dayLeftMs, wake, weight, dailyCost = ARGV[13], tonumber(ARGV[14]), ARGV[15], ARGV[16], ARGV[17]
local arrival, left, resetUs = nil, -1, 0
if perMinute > 0 then
  arrival, left, resetUs = gcra_check(rateKey, perMinute)
  if not arrival then  -- then `left` is the microseconds until one more is admitted
    local waitMs = math.ceil(left / 1000)
    return {Enqueued.RATE_LIMITED, '', 0, waitMs, waitMs}
  end
end
if idemKey then
  local earlier = rcall('GET', idemKey)
  if earlier then
    local used, earlierId = string.match(earlier, '^(%x*):(.+)$')
    if not used or (#used ~= 64 and #used ~= 0) then  -- a bare id: written before fingerprints
      used, earlierId = fingerprint, earlier
    end
    if used ~= fingerprint then return {Enqueued.KEY_REUSED, earlierId, -1, 0, 0} end
    return {Enqueued.KEY_USED, earlierId, -1, 0, 0}
  end
end
if rcall('EXISTS', jobKey) == 1 then return {Enqueued.EXISTS, jobId, -1, 0, 0} end
if limit > 0 and at_limit(queue, lane, wake, limit) then return {Enqueued.FULL, '', -1, 0, 0} end
if maxActive > 0 and tonumber(rcall('HGET', tenantKey, 'active') or 0) >= maxActive then
  return {Enqueued.TOO_MANY_ACTIVE, '', -1, 0, 0}
end
if (dailyTokens > 0 and tonumber(rcall('GET', spentKey) or 0) >= dailyTokens)
    or (tonumber(dailyCost) > 0 and tonumber(rcall('GET', costKey) or 0) >= tonumber(dailyCost)) then
  return {Enqueued.BUDGET_SPENT, '', -1, 0, dayLeftMs}
end
if arrival then gcra_book(rateKey, arrival, resetUs) end
rcall('HSET', jobKey, 'status', 'queued', 'attempts', 0, 'enqueued_at', enqueuedAt, 'text_chars', textChars,
  'counted', 1)
if recordTenant ~= '' then rcall('HSET', jobKey, 'tenant', recordTenant) end
if ARGV[18] and ARGV[18] ~= '' then rcall('HSET', jobKey, 'callback_url', ARGV[18]) end
rcall('EXPIRE', jobKey, unfinishedTtl)
push_job(queue, lane, ring, tenant, message, false, wake)
if lane ~= queue then
  if weight == '1' then rcall('HDEL', weightsKey, tenant) else rcall('HSET', weightsKey, tenant, weight) end
end
rcall('HINCRBY', totals, 'enqueued', 1)
rcall('LPUSH', recent, jobId)
rcall('LTRIM', recent, 0, 99)
rcall('HINCRBY', tenantKey, 'enqueued', 1)
rcall('HSET', tenantKey, 'budget_tokens', dailyTokens, 'budget_cost_usd', dailyCost)
rcall('HINCRBY', tenantKey, 'active', 1)
rcall('LPUSH', tenantRecent, jobId)
rcall('LTRIM', tenantRecent, 0, 99)
rcall('SADD', tenantsKey, tenant)
if idemKey then rcall('SET', idemKey, fingerprint .. ':' .. jobId, 'EX', idemTtl) end
return {Enqueued.QUEUED, jobId, left, math.ceil(resetUs / 1000), 0}
