--[[ complete: running -> done.
  Records the summary, starts the record's TTL, releases the message and announces
  the result in one step: a crash can neither leave a done job on a processing list
  (where recovery would run it again) nor release a job without its record.
  Idempotent: for a job already final it only releases the message, and publishes
  nothing, so a job has exactly one final record and one event.
  KEYS[1] processing list of the worker   KEYS[2] job hash
  ARGV[1] message as held                 ARGV[2] summary
  ARGV[3] model                           ARGV[4] finished_at, unix seconds
  ARGV[5] record TTL, seconds             ARGV[6] result channel
  ARGV[7] event JSON
  Returns 1 done | 0 already final ]]
local rcall = redis.call
local status = rcall('HGET', KEYS[2], 'status')
rcall('LREM', KEYS[1], 1, ARGV[1])
if status == 'done' or status == 'failed' then return 0 end
rcall('HSET', KEYS[2], 'status', 'done', 'summary', ARGV[2], 'model', ARGV[3], 'finished_at', ARGV[4])
rcall('HDEL', KEYS[2], 'error')
rcall('EXPIRE', KEYS[2], ARGV[5])
rcall('PUBLISH', ARGV[6], ARGV[7])
return 1
