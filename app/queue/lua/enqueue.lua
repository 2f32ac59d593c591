--[[ enqueue: (new) -> queued.
  Writes the job record and pushes the message in one step, so every message on the
  queue has a record and a rejected job leaves neither. Idempotent by id: a job whose
  record exists is not pushed again (a client that retries after a lost reply). With
  an idempotency key, the first request under the key enqueues and later ones get
  its job id back, however many arrive at once.
  KEYS[1] queue list              KEYS[2] job hash
  KEYS[3] totals hash (counts `enqueued`)
  KEYS[4] recent list (the newest job ids, capped: the dashboard's "latest jobs")
  KEYS[5] idempotency key (optional; absent = no key)
  ARGV[1] message JSON            ARGV[2] enqueued_at, unix seconds
  ARGV[3] text length in chars    ARGV[4] queue length limit (0 = unlimited)
  ARGV[5] job id                  ARGV[6] idempotency key TTL, seconds
  ARGV[7] TTL of the record until the job ends, seconds (a job whose message is deleted
          by hand must not leave its record forever; start renews it, the ending replaces it)
  Returns {Enqueued, id}: {QUEUED, id} | {EXISTS, id} (nothing pushed) | {FULL, ''}
  (nothing written) | {KEY_USED, earlier id} the idempotency key was used before ]]
-- @replies Enqueued
local rcall = redis.call
local queue, jobKey, totals, recent, idemKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local message, enqueuedAt, textChars, limit, jobId = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
if idemKey then
  local earlier = rcall('GET', idemKey)
  if earlier then return {Enqueued.KEY_USED, earlier} end
end
if rcall('EXISTS', jobKey) == 1 then return {Enqueued.EXISTS, jobId} end
if limit > 0 and rcall('LLEN', queue) >= limit then return {Enqueued.FULL, ''} end
rcall('HSET', jobKey, 'status', 'queued', 'attempts', 0, 'enqueued_at', enqueuedAt, 'text_chars', textChars)
rcall('EXPIRE', jobKey, ARGV[7])
rcall('LPUSH', queue, message)
rcall('HINCRBY', totals, 'enqueued', 1)
rcall('LPUSH', recent, jobId)
rcall('LTRIM', recent, 0, 99)
if idemKey then rcall('SET', idemKey, jobId, 'EX', ARGV[6]) end
return {Enqueued.QUEUED, jobId}
