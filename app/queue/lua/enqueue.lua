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
  Returns {1, id} queued | {0, id} exists (nothing pushed) | {-1, ''} queue full
  (nothing written) | {2, earlier id} the idempotency key was used before ]]
local rcall = redis.call
if KEYS[5] then
  local earlier = rcall('GET', KEYS[5])
  if earlier then return {2, earlier} end
end
if rcall('EXISTS', KEYS[2]) == 1 then return {0, ARGV[5]} end
local limit = tonumber(ARGV[4])
if limit > 0 and rcall('LLEN', KEYS[1]) >= limit then return {-1, ''} end
rcall('HSET', KEYS[2], 'status', 'queued', 'attempts', 0, 'enqueued_at', ARGV[2], 'text_chars', ARGV[3])
rcall('EXPIRE', KEYS[2], ARGV[7])
rcall('LPUSH', KEYS[1], ARGV[1])
rcall('HINCRBY', KEYS[3], 'enqueued', 1)
rcall('LPUSH', KEYS[4], ARGV[5])
rcall('LTRIM', KEYS[4], 0, 99)
if KEYS[5] then rcall('SET', KEYS[5], ARGV[5], 'EX', ARGV[6]) end
return {1, ARGV[5]}
