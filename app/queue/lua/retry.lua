--[[ retry: running -> queued, after a backoff.
  Records the error, releases the message from the processing list and parks it in the
  delayed set until its due time, in one step: a crash leaves the job either still held
  (recovery requeues it) or delayed, never both and never neither. Idempotent like
  complete: a job already final is only released; one whose message is no longer held here
  (recovered while this worker was cut off: its recovered message runs it) is left alone, so
  no second message of it is made. A record key holding another type is replaced.
  KEYS[1] processing list of the worker   KEYS[2] job hash   KEYS[3] delayed set
  KEYS[4] totals hash (counts `retried`)   KEYS[5] its tenant's hash (counts `retried`)
  ARGV[1] message as held                 ARGV[2] message of the next attempt
  ARGV[3] due time, unix seconds          ARGV[4] error of this attempt
  Returns Ended: ENDED (delayed) | ALREADY_FINAL | TAKEN ]]
-- @include final
-- @replies Ended
local rcall = redis.call
local processing, jobKey, delayed, totals, tenantKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local held, following, dueAt, err = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local status = status_before_ending(jobKey)
local removed = rcall('LREM', processing, -1, held)  -- from the old end, where finished jobs sit
if is_final(status) then return Ended.ALREADY_FINAL end
if removed == 0 then return Ended.TAKEN end
rcall('HSET', jobKey, 'status', 'queued', 'error', err, 'retry_at', dueAt)
rcall('ZADD', delayed, dueAt, following)
rcall('HINCRBY', totals, 'retried', 1)
rcall('HINCRBY', tenantKey, 'retried', 1)
return Ended.ENDED
