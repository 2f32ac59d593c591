--[[ complete: running -> done, for a batch of finished jobs.
  For each job: records the summary, starts the record's TTL, releases the message,
  drops its progress stream (a reader after the end is served from the record, which
  holds the whole summary: a finished job keeps only its record), adds the job's usage
  to the queue's totals and announces the result, all in one step: a crash can neither
  leave a done job on a processing list (where recovery would run it again) nor release
  a job without its record, nor count its tokens twice. Idempotent: a job already final
  is only released, and publishes and counts nothing, so a job has exactly one final
  record and one event; a job taken from this worker (taken() in includes/final.lua: it was
  recovered while this worker was cut off, and runs elsewhere) is left alone. A job recovered
  but not yet started again is completed: the message waiting for it is let go when reached.
  A record key holding another type is replaced.
  KEYS[1] processing list of the worker   KEYS[2] totals hash
  KEYS[1+2i] job hash of the i-th job     KEYS[2+2i] its progress stream
  KEYS[2+2n+3t-2] hash of the t-th tenant of the batch   KEYS[2+2n+3t-1] its tokens spent today
  KEYS[2+2n+3t] what its jobs cost today, USD   KEYS[#KEYS] the webhook outbox (last)
  ARGV[1] finished_at, unix seconds       ARGV[2] record TTL, seconds
  ARGV[3] result channel                  ARGV[4] n, the number of jobs
  ARGV[5] TTL of a day's spent tokens, seconds   ARGV[6] the worker id
  then per job: the message as held, the event JSON, t (its tenant's index), the model
  tokens it used, its cost (USD, 0 when unknown), a count f of record fields, a count u of usage amounts, f field/value
  pairs for the record (Outcome.record_fields), and u name/amount pairs to add to the
  totals (Outcome.usage: integers by HINCRBY, others by HINCRBYFLOAT). The script knows
  no field's name: the Outcome type does.
  Totals: `done` counts the jobs that became done, in the queue's totals and in their
  tenant's hash (with its usage, the day's tokens and cost, and `active` less one if the record
  was counted in it).
  Events: each job that became done publishes its event JSON on the result channel.
  Webhooks: a job that asked for a callback gets its delivery due now (includes/webhook.lua).
  Returns per job Ended: ENDED | ALREADY_FINAL | TAKEN ]]
-- @include final
-- @include webhook
-- @replies Ended
local rcall = redis.call
local processing, totals = KEYS[1], KEYS[2]
local finishedAt, recordTtl, channel, count, spentTtl = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local workerId, outbox = ARGV[6], KEYS[#KEYS]

local function add(hash, name, amount)
  if string.find(amount, '^-?%d+$') then
    rcall('HINCRBY', hash, name, amount)
  else
    rcall('HINCRBYFLOAT', hash, name, amount)
  end
end

local done, a, replies = 0, 7, {}
for i = 1, count do
  local jobKey, streamKey = KEYS[1 + 2 * i], KEYS[2 + 2 * i]
  local held, event, t, tokens = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  local cost, fields, amounts = ARGV[a + 4], tonumber(ARGV[a + 5]), tonumber(ARGV[a + 6])
  local firstField, lastField = a + 7, a + 6 + 2 * fields
  local firstAmount, lastAmount = lastField + 1, lastField + 2 * amounts
  a = lastAmount + 1
  local status = status_before_ending(jobKey)
  local removed = rcall('LREM', processing, -1, held)  -- from the old end, where finished jobs sit
  replies[i] = is_final(status) and Ended.ALREADY_FINAL or Ended.ENDED
  if replies[i] == Ended.ENDED and taken(jobKey, status, removed, workerId) then replies[i] = Ended.TAKEN end
  if replies[i] == Ended.ENDED then
    local tenantKey, spentKey = KEYS[2 + 2 * count + 3 * t - 2], KEYS[2 + 2 * count + 3 * t - 1]
    local costKey = KEYS[2 + 2 * count + 3 * t]
    rcall('HSET', jobKey, 'status', 'done', 'finished_at', finishedAt, unpack(ARGV, firstField, lastField))
    rcall('HDEL', jobKey, 'error', 'retry_at')
    rcall('EXPIRE', jobKey, recordTtl)
    rcall('DEL', streamKey)
    for f = firstAmount, lastAmount, 2 do
      add(totals, ARGV[f], ARGV[f + 1])
      add(tenantKey, ARGV[f], ARGV[f + 1])
    end
    rcall('HINCRBY', tenantKey, 'done', 1)
    if rcall('HGET', jobKey, 'counted') then
      rcall('HINCRBY', tenantKey, 'active', -1)
      rcall('HDEL', jobKey, 'counted')
    end
    if tokens > 0 then
      rcall('INCRBY', spentKey, tokens)
      rcall('EXPIRE', spentKey, spentTtl)
    end
    if tonumber(cost) > 0 then
      rcall('INCRBYFLOAT', costKey, cost)
      rcall('EXPIRE', costKey, spentTtl)
    end
    schedule_webhook(jobKey, outbox, finishedAt)
    rcall('PUBLISH', channel, event)
    done = done + 1
  end
end
if done > 0 then rcall('HINCRBY', totals, 'done', done) end
return replies
