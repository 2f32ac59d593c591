--[[ fail: running -> failed, for good.
  Records the error, starts the record's TTL, moves the message from the processing
  list to the dead list with the reason (keeping the list's retention), drops the job's
  progress stream (a reader after the end is served from the record) and announces the failure,
  in one step. Idempotent like complete: a job already final is only released. A record
  key holding another type (garbage written under our name mid-run) is replaced.
  KEYS[1] processing list of the worker   KEYS[2] job hash   KEYS[3] dead list
  KEYS[4] totals hash (counts `failed`)   KEYS[5] progress stream of the job
  ARGV[1] message as held                 ARGV[2] error
  ARGV[3] finished_at, unix seconds       ARGV[4] record TTL, seconds
  ARGV[5] result channel                  ARGV[6] event JSON
  ARGV[7] dead-list entry JSON            ARGV[8] DEAD_MAX   ARGV[9] DEAD_TTL, seconds
  Returns 1 failed | 0 already final ]]
-- @include push_dead
local rcall = redis.call
local kind = rcall('TYPE', KEYS[2])['ok']
if kind ~= 'hash' and kind ~= 'none' then rcall('DEL', KEYS[2]) end
local status = rcall('HGET', KEYS[2], 'status')
rcall('LREM', KEYS[1], -1, ARGV[1])  -- from the old end, where finished jobs sit
if status == 'done' or status == 'failed' then return 0 end
rcall('HSET', KEYS[2], 'status', 'failed', 'error', ARGV[2], 'finished_at', ARGV[3])
rcall('EXPIRE', KEYS[2], ARGV[4])
push_dead(KEYS[3], ARGV[7], tonumber(ARGV[3]), tonumber(ARGV[8]), tonumber(ARGV[9]))
rcall('HINCRBY', KEYS[4], 'failed', 1)
rcall('DEL', KEYS[5])
rcall('PUBLISH', ARGV[5], ARGV[6])
return 1
