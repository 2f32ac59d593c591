--[[ retry: running -> queued, after a backoff.
  Records the error, releases the message from the processing list and parks the next
  attempt in the delayed set until its due time, in one step: a crash leaves the job
  either still held (recovery requeues it) or delayed, never both and never neither.
  Idempotent like complete: a job already final is only released. A record key holding
  another type (garbage written under our name mid-run) is replaced.
  KEYS[1] processing list of the worker   KEYS[2] job hash   KEYS[3] delayed set
  KEYS[4] totals hash (counts `retried`)
  ARGV[1] message as held                 ARGV[2] message of the next attempt
  ARGV[3] due time, unix seconds          ARGV[4] error of this attempt
  Returns 1 delayed | 0 already final ]]
local rcall = redis.call
local kind = rcall('TYPE', KEYS[2])['ok']
if kind ~= 'hash' and kind ~= 'none' then rcall('DEL', KEYS[2]) end
local status = rcall('HGET', KEYS[2], 'status')
rcall('LREM', KEYS[1], -1, ARGV[1])  -- from the old end, where finished jobs sit
if status == 'done' or status == 'failed' then return 0 end
rcall('HSET', KEYS[2], 'status', 'queued', 'error', ARGV[4], 'retry_at', ARGV[3])
rcall('ZADD', KEYS[3], ARGV[3], ARGV[2])
rcall('HINCRBY', KEYS[4], 'retried', 1)
return 1
