--[[ complete: running -> done, for a batch of finished jobs.
  For each job: records the summary, starts the record's TTL, releases the message
  and announces the result, all in one step: a crash can neither leave a done job on
  a processing list (where recovery would run it again) nor release a job without
  its record. Idempotent: a job already final is only released, and publishes
  nothing, so a job has exactly one final record and one event.
  KEYS[1] processing list of the worker   KEYS[1+i] job hash of the i-th job
  ARGV[1] finished_at, unix seconds       ARGV[2] record TTL, seconds
  ARGV[3] result channel
  then 4 per job i (j = 3 + 4(i-1)):
  ARGV[j+1] message as held   ARGV[j+2] summary   ARGV[j+3] model   ARGV[j+4] event JSON
  Returns the number of jobs that became done (the rest were already final) ]]
local rcall = redis.call
local done = 0
for i = 1, #KEYS - 1 do
  local job, j = KEYS[i + 1], 3 + 4 * (i - 1)
  local status = rcall('HGET', job, 'status')
  rcall('LREM', KEYS[1], -1, ARGV[j + 1])  -- from the old end, where finished jobs sit
  if status ~= 'done' and status ~= 'failed' then
    rcall('HSET', job, 'status', 'done', 'summary', ARGV[j + 2], 'model', ARGV[j + 3], 'finished_at', ARGV[1])
    rcall('HDEL', job, 'error')
    rcall('EXPIRE', job, ARGV[2])
    rcall('PUBLISH', ARGV[3], ARGV[j + 4])
    done = done + 1
  end
end
return done
