--[[ progress: append pieces of summaries to their jobs' streams, and say so.
  Each piece goes to its job's stream (capped, expiring with the record) and a wake-up
  with the job id goes to the progress channel, in one step, so a listener that is woken
  always finds the piece. The stream is the record of progress; Pub/Sub only wakes.
  KEYS[i] stream of the i-th piece's job
  ARGV[1] stream cap (entries, approximate)   ARGV[2] stream TTL, seconds
  ARGV[3] progress channel
  then 3 per piece i (j = 3 + 3(i-1)): ARGV[j+1] job id   ARGV[j+2] attempt   ARGV[j+3] text
  Events: each piece's job id on the progress channel (a wake-up; the stream holds the piece).
  Returns the number of pieces appended ]]
local rcall = redis.call
local cap, streamTtl, channel = ARGV[1], ARGV[2], ARGV[3]
for i = 1, #KEYS do
  local streamKey, j = KEYS[i], 3 + 3 * (i - 1)
  rcall('XADD', streamKey, 'MAXLEN', '~', cap, '*', 'attempt', ARGV[j + 2], 'delta', ARGV[j + 3])
  rcall('EXPIRE', streamKey, streamTtl)
  rcall('PUBLISH', channel, ARGV[j + 1])
end
return #KEYS
