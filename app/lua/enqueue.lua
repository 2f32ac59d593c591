--[[ enqueue: (new) -> queued.
  Writes the job record and pushes the message in one step, so every message on the
  queue has a record and a rejected job leaves neither. Idempotent by id: a job whose
  record exists is not pushed again (a client that retries after a lost reply).
  KEYS[1] queue list              KEYS[2] job hash
  ARGV[1] message JSON            ARGV[2] enqueued_at, unix seconds
  ARGV[3] text length in chars    ARGV[4] queue length limit (0 = unlimited)
  Returns 1 queued | 0 exists (nothing pushed) | -1 queue full (nothing written) ]]
local rcall = redis.call
if rcall('EXISTS', KEYS[2]) == 1 then return 0 end
local limit = tonumber(ARGV[4])
if limit > 0 and rcall('LLEN', KEYS[1]) >= limit then return -1 end
rcall('HSET', KEYS[2], 'status', 'queued', 'attempts', 0, 'enqueued_at', ARGV[2], 'text_chars', ARGV[3])
rcall('LPUSH', KEYS[1], ARGV[1])
return 1
