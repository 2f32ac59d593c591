--[[ fail: running -> failed, for good.
  Records the error, starts the record's TTL, moves the message from the processing
  list to the dead list with the reason (keeping the list's retention), drops the job's
  progress stream (a reader after the end is served from the record) and announces the
  failure, in one step. Idempotent like complete: a job already final is only released;
  one taken from this worker (taken() in includes/final.lua) is left alone.
  A record key holding another type is replaced.
  KEYS[1] processing list of the worker   KEYS[2] job hash   KEYS[3] dead list
  KEYS[4] totals hash (counts `failed`)   KEYS[5] progress stream of the job
  KEYS[6] its tenant's hash (counts `failed`; `active` less one if the record was counted)
  KEYS[7] the webhook outbox (a callback asked for is due now: includes/webhook.lua)
  ARGV[1] message as held                 ARGV[2] error
  ARGV[3] finished_at, unix seconds       ARGV[4] record TTL, seconds
  ARGV[5] result channel                  ARGV[6] event JSON
  ARGV[7] dead-list entry JSON            ARGV[8] DEAD_MAX   ARGV[9] DEAD_TTL, seconds
  ARGV[10] the worker id
  Events: the event JSON on the result channel, when the job became failed.
  Returns Ended: ENDED | ALREADY_FINAL | TAKEN ]]
-- @include final
-- @include push_dead
-- @include webhook
-- @replies Ended
local rcall = redis.call
local processing, jobKey, dead, totals, streamKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local tenantKey = KEYS[6]
local held, err, finishedAt, recordTtl, channel, event = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local status = status_before_ending(jobKey)
local removed = rcall('LREM', processing, -1, held)  -- from the old end, where finished jobs sit
if is_final(status) then return Ended.ALREADY_FINAL end
if taken(jobKey, status, removed, ARGV[10]) then return Ended.TAKEN end
rcall('HSET', jobKey, 'status', 'failed', 'error', err, 'finished_at', finishedAt)
rcall('EXPIRE', jobKey, recordTtl)
push_dead(dead, ARGV[7], tonumber(finishedAt), tonumber(ARGV[8]), tonumber(ARGV[9]))
rcall('HINCRBY', totals, 'failed', 1)
rcall('HINCRBY', tenantKey, 'failed', 1)
if rcall('HGET', jobKey, 'counted') then
  rcall('HINCRBY', tenantKey, 'active', -1)
  rcall('HDEL', jobKey, 'counted')
end
rcall('DEL', streamKey)
schedule_webhook(jobKey, KEYS[7], finishedAt)
rcall('PUBLISH', channel, event)
return Ended.ENDED
