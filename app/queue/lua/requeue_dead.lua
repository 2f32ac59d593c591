--[[ requeue_dead: dead -> queued, by an operator.
  Takes one entry off the dead list and pushes its message as a fresh job: the record is
  reset (attempts 0, no error, the unfinished record's expiry) so the job runs MAX_ATTEMPTS
  times again and start does not mistake it for a finished one.
  The job counts as one of its tenant's active jobs again. A callback it asked for is kept: its
  next ending is delivered too (a webhook of its own: its id names the ending's time).
  It goes to the back of its lane (of its priority and tenant), as a new job would.
  KEYS[1] dead list   KEYS[2] queue list   KEYS[3] job hash   KEYS[4] its tenant's hash
  KEYS[5] its lane    KEYS[6] the ring of its priority
  ARGV[1] the dead entry, exactly as listed   ARGV[2] message to push
  ARGV[3] now, unix seconds                   ARGV[4] text length in chars
  ARGV[5] TTL of the record until the job ends, seconds
  ARGV[6] its tenant ('' = default, not written in the record)
  ARGV[7] its tenant's name   ARGV[8] the wake token
  ARGV[9] the producer's own fields for the record's `meta` ('' = none)
  A job that is live (queued or running: the entry is a duplicate message's) is left alone,
  entry and all.
  Returns Moved: MOVED (requeued) | GONE (not on the dead list: already requeued or purged)
  | LIVE (its job is queued or running: nothing done) ]]
-- @include lanes
-- @replies Moved
local rcall = redis.call
local dead, queue, jobKey, tenantKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local status = rcall('TYPE', jobKey)['ok'] == 'hash' and rcall('HGET', jobKey, 'status') or nil
if status == 'queued' or status == 'running' then return Moved.LIVE end
if rcall('LREM', dead, 1, ARGV[1]) == 0 then return Moved.GONE end
local callback = status and rcall('HGET', jobKey, 'callback_url')
rcall('DEL', jobKey)
if callback then rcall('HSET', jobKey, 'callback_url', callback) end
rcall('HSET', jobKey, 'status', 'queued', 'attempts', 0, 'enqueued_at', ARGV[3], 'text_chars', ARGV[4], 'counted', 1)
if ARGV[6] ~= '' then rcall('HSET', jobKey, 'tenant', ARGV[6]) end
if ARGV[9] ~= '' then rcall('HSET', jobKey, 'meta', ARGV[9]) end
rcall('EXPIRE', jobKey, ARGV[5])
rcall('HINCRBY', tenantKey, 'active', 1)
push_job(queue, KEYS[5], KEYS[6], ARGV[7], ARGV[2], false, ARGV[8])
return Moved.MOVED
