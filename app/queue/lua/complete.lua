--[[ complete: running -> done, for a batch of finished jobs.
  For each job: records the summary, starts the record's TTL, releases the message,
  drops its progress stream (a reader after the end is served from the record, which
  holds the whole summary: a finished job keeps only its record), adds the job's usage
  to the queue's totals and announces the result, all in one step: a crash can neither
  leave a done job on a processing list (where recovery would run it again) nor release
  a job without its record, nor count its tokens twice. Idempotent: a job already final
  is only released, and publishes and counts nothing, so a job has exactly one final
  record and one event. A record key holding another type (garbage written under our
  name mid-run) is replaced, so one bad key cannot fail the batch.
  KEYS[1] processing list of the worker   KEYS[2] totals hash
  KEYS[1+2i] job hash of the i-th job     KEYS[2+2i] its progress stream
  ARGV[1] finished_at, unix seconds       ARGV[2] record TTL, seconds
  ARGV[3] result channel
  then per job: the message as held, the event JSON, a count n, and n field/value pairs
  for the record (summary, model, and the model layer's prompt_tokens, output_tokens,
  cost_usd, cached, truncated, unhonoured_options when it has them)
  Totals: `done` counts the jobs; prompt_tokens, output_tokens and cost_usd are summed;
  cached=1 counts cached_jobs.
  Returns the number of jobs that became done (the rest were already final) ]]
local rcall = redis.call
local done, a = 0, 4
for i = 3, #KEYS, 2 do
  local job, raw, event = KEYS[i], ARGV[a], ARGV[a + 1]
  local first, last = a + 3, a + 2 + 2 * tonumber(ARGV[a + 2])
  a = last + 1
  local kind = rcall('TYPE', job)['ok']
  if kind ~= 'hash' and kind ~= 'none' then rcall('DEL', job) end
  local status = rcall('HGET', job, 'status')
  rcall('LREM', KEYS[1], -1, raw)  -- from the old end, where finished jobs sit
  if status ~= 'done' and status ~= 'failed' then
    rcall('HSET', job, 'status', 'done', 'finished_at', ARGV[1], unpack(ARGV, first, last))
    rcall('HDEL', job, 'error', 'retry_at')
    rcall('EXPIRE', job, ARGV[2])
    rcall('DEL', KEYS[i + 1])
    for f = first, last, 2 do
      local name, value = ARGV[f], ARGV[f + 1]
      if name == 'prompt_tokens' or name == 'output_tokens' then
        rcall('HINCRBY', KEYS[2], name, value)
      elseif name == 'cost_usd' then
        rcall('HINCRBYFLOAT', KEYS[2], name, value)
      elseif name == 'cached' and value == '1' then
        rcall('HINCRBY', KEYS[2], 'cached_jobs', 1)
      end
    end
    rcall('PUBLISH', ARGV[3], event)
    done = done + 1
  end
end
if done > 0 then rcall('HINCRBY', KEYS[2], 'done', done) end
return done
