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
  A job with no record yet (a foreign producer's) gets one, under its message's tenant;
  any record without a tenant gets its message's; a record not yet counted as one of its
  tenant's active jobs (a foreign producer's, or one written by a version before tenants)
  is counted now and marked `counted`. A job past its expiry (the caller says
  so, by its clock at ARGV[1]) that has never started ends `expired` instead, without a
  model call: released, recorded, counted and announced in the same step.
  KEYS[1] processing list of the worker   KEYS[2] tenants set   KEYS[3] totals hash
  KEYS[3+i] job hash of the i-th message  KEYS[3+n+3t-2] hash of the t-th tenant of the batch
  KEYS[3+n+3t-1] the tokens its jobs spent today   KEYS[3+n+3t] what they cost today, USD
  KEYS[#KEYS] the webhook outbox (an expired job's callback is due now: includes/webhook.lua)
  ARGV[1] now, unix seconds               ARGV[2] worker id
  ARGV[3] TTL of an unfinished record, seconds   ARGV[4] n, the number of messages
  ARGV[5] the default tenant's name (a record of that tenant does not name it)
  ARGV[6] record TTL of an ended job, seconds    ARGV[7] result channel
  ARGV[8] the error an expired job records
  then 9 per message i (j = 8 + 9(i-1)):
  ARGV[j+1] message as reserved   ARGV[j+2] message to hold instead ('' = keep)
  ARGV[j+3] enqueued_at (for a job with no record yet)   ARGV[j+4] text length in chars
  ARGV[j+5] its tenant   ARGV[j+6] t, the index of its tenant's hash
  ARGV[j+7] its `expired` event JSON when it is past its expiry, else ''
  ARGV[j+8] a foreign producer's own fields (JSON) for the record's `meta`, else ''
  ARGV[j+9] the job's listen key (an event stream follows it while that exists), or '' when the
            job asked to be streamed whoever listens
  Events: the `expired` event of each job that ends so, on the result channel.
  A job that has not started yet starts only while its reserved message is still on this worker's
  list: a message reserved ahead (WORKER_PREFETCH) may have been recovered to the queue while this
  worker was cut off, and the copy there is the job's now (Started.NOT_HELD: nothing done here).
  Returns {replies, streams, spent}: per message, the attempt number (>= 1) | Started.ALREADY_FINAL
  (message released) | Started.RUNNING_ELSEWHERE (nothing done) | Started.NOT_HELD (nothing done) | Started.EXPIRED (ended,
  released) | the record key's type name, a string, when it is not a hash (nothing done); and
  1 for a job that starts with someone listening (its model call streams its summary), else 0;
  and 1 for a job that starts while its tenant's daily budget (the hash's `budget_tokens`,
  `budget_cost_usd`, written by enqueue.lua) is spent: the worker fails it without a call ]]
-- @include final
-- @include webhook
-- @replies Started
local rcall = redis.call
local processing, tenantsKey, totals = KEYS[1], KEYS[2], KEYS[3]
local now, workerId, unfinishedTtl, count, defaultTenant = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local recordTtl, channel, expiredError, outbox = ARGV[6], ARGV[7], ARGV[8], KEYS[#KEYS]

-- A job that may start, in its tenant's numbers: its record names its tenant (unless the
-- default), and it is counted once among the tenant's active jobs.
local function adopt(jobKey, tenant, tenantKey)
  if tenant ~= defaultTenant then rcall('HSETNX', jobKey, 'tenant', tenant) end
  if not rcall('HGET', jobKey, 'counted') then
    rcall('HSET', jobKey, 'counted', 1)
    rcall('HINCRBY', tenantKey, 'active', 1)
    rcall('SADD', tenantsKey, tenant)
  end
end

-- Whether the t-th tenant of the batch has spent its budget of the day (read once per batch).
local spentBy = {}
local function broke(t)
  if spentBy[t] then return spentBy[t] end
  local base = 3 + count + 3 * t
  local tokens, cost = unpack(rcall('HMGET', KEYS[base - 2], 'budget_tokens', 'budget_cost_usd'))
  tokens, cost = tonumber(tokens or 0), tonumber(cost or 0)
  spentBy[t] = 0
  if (tokens > 0 and tonumber(rcall('GET', KEYS[base - 1]) or 0) >= tokens)
      or (cost > 0 and tonumber(rcall('GET', KEYS[base]) or 0) >= cost) then
    spentBy[t] = 1
  end
  return spentBy[t]
end

-- Whether the job's model call should stream: it asked to, or an event stream follows it.
local function listened(listenKey)
  return (listenKey == '' or rcall('EXISTS', listenKey) == 1) and 1 or 0
end

local replies, streams, spent = {}, {}, {}
for i = 1, count do
  local jobKey, j = KEYS[3 + i], 8 + 9 * (i - 1)
  streams[i], spent[i] = 0, 0
  local reserved, replacement, enqueuedAt, textChars = ARGV[j + 1], ARGV[j + 2], ARGV[j + 3], ARGV[j + 4]
  local t = tonumber(ARGV[j + 6])
  local tenant, tenantKey, expiredEvent = ARGV[j + 5], KEYS[3 + count + 3 * t - 2], ARGV[j + 7]
  local kind = rcall('TYPE', jobKey)['ok']
  local status = kind == 'hash' and rcall('HGET', jobKey, 'status') or nil
  if kind ~= 'hash' and kind ~= 'none' then
    replies[i] = kind
  elseif is_final(status) then
    rcall('LREM', processing, 1, reserved)
    -- a job cancelled while it waited kept a long TTL until now (cancel.lua)
    if status == 'cancelled' and rcall('TTL', jobKey) > tonumber(recordTtl) then rcall('EXPIRE', jobKey, recordTtl) end
    replies[i] = Started.ALREADY_FINAL
  elseif status == 'running' and rcall('HGET', jobKey, 'worker') ~= workerId then
    replies[i] = Started.RUNNING_ELSEWHERE
  elseif status == 'running' then
    replies[i] = tonumber(rcall('HGET', jobKey, 'attempts'))
    streams[i], spent[i] = listened(ARGV[j + 9]), broke(t)
  elseif not rcall('LPOS', processing, reserved) then
    replies[i] = Started.NOT_HELD
  else
    if not status then rcall('HSET', jobKey, 'enqueued_at', enqueuedAt, 'text_chars', textChars) end
    if ARGV[j + 8] ~= '' then rcall('HSETNX', jobKey, 'meta', ARGV[j + 8]) end
    adopt(jobKey, tenant, tenantKey)
    -- Only a job that never started expires: one handed back or recovered has begun its work.
    if expiredEvent ~= '' and tonumber(rcall('HGET', jobKey, 'attempts') or 0) == 0 then
      rcall('LREM', processing, 1, reserved)
      rcall('HSET', jobKey, 'status', 'expired', 'finished_at', now, 'error', expiredError)
      rcall('HDEL', jobKey, 'retry_at', 'counted')
      rcall('EXPIRE', jobKey, recordTtl)
      rcall('HINCRBY', totals, 'expired', 1)
      rcall('HINCRBY', tenantKey, 'expired', 1)
      rcall('HINCRBY', tenantKey, 'active', -1)
      schedule_webhook(jobKey, outbox, now)
      rcall('PUBLISH', channel, expiredEvent)
      replies[i] = Started.EXPIRED
    else
      if replacement ~= '' and rcall('LREM', processing, 1, reserved) == 1 then
        rcall('LPUSH', processing, replacement)
      end
      rcall('HSET', jobKey, 'status', 'running', 'started_at', now, 'worker', workerId)
      rcall('EXPIRE', jobKey, unfinishedTtl)
      replies[i] = rcall('HINCRBY', jobKey, 'attempts', 1)
      streams[i], spent[i] = listened(ARGV[j + 9]), broke(t)
    end
  end
end
return {replies, streams, spent}
