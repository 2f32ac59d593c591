--[[ cancel: queued | running -> cancelled, by its client.
  Ends the job in one step: the record says `cancelled` (finished_at, error) and starts its
  TTL, the job counts `cancelled` in the totals and its tenant's hash and leaves its
  tenant's active jobs, its progress stream goes, and the `cancelled` event is published.
  Its message stays where it is (a lane, the delayed set, a processing list: finding it
  there would cost a scan of the list): whoever meets it next finds a final record and
  releases it unrun (start.lua's ALREADY_FINAL; an ending of a running attempt only
  releases it), so a job cancelled at any moment, even racing its own completion, a crash
  or a retry, ends exactly once. So that the record outlives a message still waiting, a job
  cancelled before it ran keeps the unfinished record's TTL; start.lua shortens it when it
  releases the message. A running job's worker is told on the control channel, and aborts
  its model call.
  KEYS[1] job hash   KEYS[2] totals hash   KEYS[3] its tenant's hash   KEYS[4] its progress stream
  KEYS[5] the webhook outbox (a callback asked for is due now: includes/webhook.lua)
  ARGV[1] now, unix seconds   ARGV[2] record TTL of an ended job, seconds
  ARGV[3] result channel      ARGV[4] the `cancelled` event JSON
  ARGV[5] control channel     ARGV[6] job id   ARGV[7] the error the record keeps
  ARGV[8] TTL of an unfinished record, seconds (for a job whose message still waits)
  Events: the `cancelled` event on the result channel; the job id on the control channel
  when it was running.
  Returns {Cancelled, the record's fields after (HGETALL; empty for UNKNOWN)}: CANCELLED |
  ALREADY_FINAL (nothing done) | UNKNOWN (no job record) ]]
-- @include final
-- @include webhook
-- @replies Cancelled
local rcall = redis.call
local jobKey, totals, tenantKey, streamKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
if rcall('TYPE', jobKey)['ok'] ~= 'hash' then return {Cancelled.UNKNOWN, {}} end
local status = rcall('HGET', jobKey, 'status')
if not status then return {Cancelled.UNKNOWN, {}} end
if is_final(status) then return {Cancelled.ALREADY_FINAL, rcall('HGETALL', jobKey)} end
rcall('HSET', jobKey, 'status', 'cancelled', 'finished_at', ARGV[1], 'error', ARGV[7])
rcall('HDEL', jobKey, 'retry_at')
if rcall('HDEL', jobKey, 'counted') == 1 then rcall('HINCRBY', tenantKey, 'active', -1) end
rcall('EXPIRE', jobKey, status == 'running' and ARGV[2] or ARGV[8])
rcall('DEL', streamKey)
rcall('HINCRBY', totals, 'cancelled', 1)
rcall('HINCRBY', tenantKey, 'cancelled', 1)
schedule_webhook(jobKey, KEYS[5], ARGV[1])
rcall('PUBLISH', ARGV[3], ARGV[4])
if status == 'running' then rcall('PUBLISH', ARGV[5], ARGV[6]) end
return {Cancelled.CANCELLED, rcall('HGETALL', jobKey)}
